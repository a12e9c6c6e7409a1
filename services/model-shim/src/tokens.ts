/** Injection tokens of the model shim. */
export const MODEL_SHIM_CONFIG = Symbol.for('toolbus.model-shim.config');
