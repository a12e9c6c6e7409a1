import { join } from 'node:path';
import { startServiceProcess, type ServiceProcess } from '@toolbus/testing';

/** The built service, as a deployment runs it. */
export const MAIN = join(import.meta.dirname, '..', 'dist', 'main.js');

export type ConsumerProcess = ServiceProcess;

/** Starts `node dist/main.js` with only the given environment (and PATH). */
export function startConsumerProcess(env: Record<string, string>): Promise<ConsumerProcess> {
  return startServiceProcess(MAIN, env);
}
