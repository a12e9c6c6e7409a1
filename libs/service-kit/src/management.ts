import Fastify, { type FastifyInstance } from 'fastify';
import { renderMetrics, type Logger } from '@toolbus/observability';
import type { Readiness } from './health.js';
import { ProblemError, sendProblem } from './problem.js';

export interface ManagementServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * `/health/live`, `/health/ready` and `/metrics` on their own port (`MANAGEMENT_PORT`), never
 * on the API port: the kubelet and Prometheus carry no token, so what they reach must be
 * nothing but probes, and the chart lets only them reach this port. Nothing else is served
 * here (404 problem+json).
 */
export async function startManagementServer(options: {
  host: string;
  port: number;
  readiness: Readiness;
  logger: Logger;
}): Promise<ManagementServer> {
  const server: FastifyInstance = Fastify({ logger: false });
  server.get('/health/live', async () => ({ status: 'ok' }));
  server.get('/health/ready', async (request, reply) => {
    const { ready, checks } = await options.readiness.report();
    if (ready) return reply.status(200).send({ status: 'ok', checks });
    const down = Object.entries(checks)
      .filter(([, s]) => s === 'down')
      .map(([n]) => n);
    return sendProblem(
      reply,
      request.url,
      new ProblemError(503, 'not_ready', `not ready: ${down.join(', ')} down`, { checks }),
    );
  });
  server.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await renderMetrics();
    return reply.status(200).header('content-type', contentType).send(body);
  });
  server.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      request.url,
      new ProblemError(
        404,
        'not_found',
        'the management port serves /health/live, /health/ready and /metrics only',
      ),
    ),
  );
  await server.listen({ host: options.host, port: options.port });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  options.logger.debug({ port }, 'management port listening');
  return {
    url: `http://${options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host}:${port}`,
    close: () => server.close(),
  };
}
