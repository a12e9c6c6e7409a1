import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  Optional,
  Res,
  type DynamicModule,
} from '@nestjs/common';
import { renderMetrics } from '@toolbus/observability';
import type { FastifyReply } from 'fastify';
import { ProblemError, sendProblem } from './problem.js';
import { Public } from './public.decorator.js';

/** A dependency the service cannot serve without (Kafka, PostgreSQL, Redis...). */
export interface ReadinessCheck {
  name: string;
  /** Resolves true when usable; false or a rejection (or taking over 2 s) means down. */
  check(): Promise<boolean>;
}

export const READINESS_CHECKS = Symbol.for('toolbus.ReadinessChecks');

/** Set when the shutdown sequence begins: readiness fails at once, before anything closes. */
export class Draining {
  active = false;
  start(): void {
    this.active = true;
  }
}
const CHECK_TIMEOUT_MS = 2000;

@Injectable()
export class HealthService {
  constructor(
    @Inject(READINESS_CHECKS) private readonly checks: ReadinessCheck[],
    @Optional() @Inject(Draining) private readonly draining?: Draining,
  ) {}

  async readiness(): Promise<{ ready: boolean; checks: Record<string, 'up' | 'down'> }> {
    // Shutting down: take no new traffic, whatever the dependencies say.
    if (this.draining?.active) return { ready: false, checks: { shutdown: 'down' } };
    const results = await Promise.all(
      this.checks.map(async (c) => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<boolean>(
          (r) => (timer = setTimeout(() => r(false), CHECK_TIMEOUT_MS)),
        );
        const ok = await Promise.race([c.check().catch(() => false), timeout]);
        clearTimeout(timer);
        return [c.name, ok ? 'up' : 'down'] as const;
      }),
    );
    return { ready: results.every(([, s]) => s === 'up'), checks: Object.fromEntries(results) };
  }
}

@Controller()
@Public('health probes and Prometheus scrapes: the kubelet and the scraper carry no token')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** Answers while the process runs: the liveness probe. */
  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 when every dependency is up, else 503 problem+json naming the ones that are down. */
  @Get('health/ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const { ready, checks } = await this.health.readiness();
    if (ready) {
      await reply.status(200).send({ status: 'ok', checks });
      return;
    }
    const down = Object.entries(checks)
      .filter(([, s]) => s === 'down')
      .map(([n]) => n);
    await sendProblem(
      reply,
      '/health/ready',
      new ProblemError(503, 'not_ready', `not ready: ${down.join(', ')} down`, { checks }),
    );
  }

  /** Prometheus exposition of every metric in the process registry. */
  @Get('metrics')
  async metrics(@Res() reply: FastifyReply): Promise<void> {
    const { contentType, body } = await renderMetrics();
    await reply.status(200).header('content-type', contentType).send(body);
  }
}

/** `/health/live`, `/health/ready` and `/metrics`, with the service's readiness checks. */
@Module({})
export class HealthModule {
  static forRoot(options: {
    checks: (...deps: never[]) => ReadinessCheck[];
    inject?: Array<string | symbol | (abstract new (...args: never[]) => unknown)>;
    draining?: Draining;
  }): DynamicModule {
    return {
      module: HealthModule,
      controllers: [HealthController],
      providers: [
        HealthService,
        ...(options.draining ? [{ provide: Draining, useValue: options.draining }] : []),
        {
          provide: READINESS_CHECKS,
          useFactory: options.checks as (...deps: unknown[]) => ReadinessCheck[],
          inject: options.inject ?? [],
        },
      ],
    };
  }
}
