import { RegistryPaths, RegisterToolResponse, type RegisterToolRequest } from '@toolbus/contracts';
import type { Logger } from '@toolbus/observability';

/**
 * Registers every tool with the registry, retrying with backoff until it answers. Runs in the
 * background: a consumer serves calls while the registry is still starting. Stops on `signal`.
 */
export async function registerTools(
  registryUrl: string,
  definitions: RegisterToolRequest[],
  logger: Logger,
  signal: AbortSignal,
  token?: string,
): Promise<void> {
  for (const definition of definitions) {
    let delay = 200;
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        const response = await fetch(
          new URL(RegistryPaths.toolVersion(definition.name, definition.version), registryUrl),
          {
            method: 'PUT',
            headers: {
              'content-type': 'application/json',
              ...(token ? { authorization: `Bearer ${token}` } : {}),
            },
            body: JSON.stringify(definition),
            signal: AbortSignal.any([signal, AbortSignal.timeout(5_000)]),
          },
        );
        if (response.ok) {
          const body = RegisterToolResponse.safeParse(await response.json());
          logger.info(
            {
              tool: definition.name,
              version: definition.version,
              status: body.success ? body.data.status : 'unknown',
            },
            'tool registered',
          );
          break;
        }
        const text = (await response.text()).slice(0, 500);
        // A 4xx says the definition itself is wrong: retrying will not help, the owner must fix it.
        if (response.status >= 400 && response.status < 500 && response.status !== 429) {
          logger.error(
            { tool: definition.name, status: response.status, body: text },
            'the registry rejected the tool definition',
          );
          break;
        }
        logger.warn(
          { tool: definition.name, status: response.status, attempt },
          'registry not ready; retrying',
        );
      } catch (error) {
        if (signal.aborted) return;
        logger.warn(
          { tool: definition.name, attempt, err: (error as Error).message },
          'registry unreachable; retrying',
        );
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  }
}
