import type { FieldIssue, ToolDefinition } from '@toolbus/contracts';
import {
  anonymousSchema,
  createAjv,
  validationIssues,
  type ValidateFunction,
} from '@toolbus/json-schema';
import { ALLOW, refuse, RefusalCodes, type PolicyStep } from '../policy.js';

export interface ArgumentsStepOptions {
  /** Largest input accepted, as JSON; default 256 KiB. */
  maxInputBytes?: number;
  /** Compiled validators kept (least recently used go first); default 1,024 tool versions. */
  maxCachedValidators?: number;
}

/**
 * Arguments: the input is valid against the tool's input JSON Schema. The refusal names each
 * bad field by JSON pointer, so a model can correct itself and call again. A schema is
 * compiled once per tool version (versions are immutable in the registry) and kept in a
 * bounded cache, so a catalog of thousands of tools costs memory only for those in use.
 */
export function argumentsStep(options: ArgumentsStepOptions = {}): PolicyStep {
  const maxBytes = options.maxInputBytes ?? 256 * 1024;
  const validators = new ValidatorCache(options.maxCachedValidators ?? 1_024);
  return {
    name: 'arguments',
    async decide(call) {
      const { tool, input } = call;
      const bytes = Buffer.byteLength(JSON.stringify(input) ?? '');
      if (bytes > maxBytes)
        return refuse({
          step: 'arguments',
          code: RefusalCodes.argumentsTooLarge,
          errorClass: 'validation',
          retryable: false,
          message: `The input for ${tool.name} is ${bytes} bytes; at most ${maxBytes} are accepted. Send less data.`,
          issues: [
            { pointer: '/', message: `is ${bytes} bytes; at most ${maxBytes} are accepted` },
          ],
        });
      const validate = validators.get(tool);
      if (validate === undefined)
        return refuse({
          step: 'arguments',
          code: RefusalCodes.policyError,
          errorClass: 'internal',
          retryable: false,
          message: `The input schema of ${tool.name} ${tool.version} cannot be compiled, so its input cannot be checked and the call is refused.`,
        });
      if (validate(input)) return ALLOW;
      const issues: FieldIssue[] = validationIssues(validate.errors).map((i) => ({
        pointer: i.pointer,
        message: i.message,
      }));
      const listed = issues
        .slice(0, 10)
        .map((i) => `${i.pointer}: ${i.message}`)
        .join('; ');
      const more = issues.length > 10 ? ` (and ${issues.length - 10} more)` : '';
      return refuse({
        step: 'arguments',
        code: RefusalCodes.invalidArguments,
        errorClass: 'validation',
        retryable: false,
        message: `The input for ${tool.name} is invalid: ${listed}${more}. Correct these fields and call again.`,
        issues,
      });
    },
  };
}

/** Compiled input validators by tool version; undefined for a schema that does not compile. */
class ValidatorCache {
  private readonly ajv = createAjv({ logger: false });
  private readonly entries = new Map<
    string,
    { validate?: ValidateFunction; schema: Record<string, unknown> }
  >();

  constructor(private readonly max: number) {}

  get(tool: ToolDefinition): ValidateFunction | undefined {
    const key = `${tool.name}@${tool.version}`;
    let entry = this.entries.get(key);
    if (entry) {
      // Map order is insertion order: re-inserting marks it most recently used.
      this.entries.delete(key);
    } else {
      const schema = anonymousSchema(tool.inputSchema);
      let validate: ValidateFunction | undefined;
      try {
        validate = this.ajv.compile(schema);
      } catch {
        validate = undefined;
      }
      entry = { schema, ...(validate ? { validate } : {}) };
      if (this.entries.size >= this.max) this.evictOldest();
    }
    this.entries.set(key, entry);
    return entry.validate;
  }

  private evictOldest(): void {
    const [key, entry] = this.entries.entries().next().value!;
    this.entries.delete(key);
    // Ajv keeps what it compiled too; drop it so the bound holds there as well.
    this.ajv.removeSchema(entry.schema);
  }
}
