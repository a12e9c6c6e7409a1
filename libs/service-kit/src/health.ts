/** A dependency the service cannot serve without (Kafka, PostgreSQL, Redis...). */
export interface ReadinessCheck {
  name: string;
  /** Resolves true when usable; false or a rejection (or taking over 2 s) means down. */
  check(): Promise<boolean>;
}

const CHECK_TIMEOUT_MS = 2000;

/** Set when the shutdown sequence begins: readiness fails at once, before anything closes. */
export class Draining {
  active = false;
  start(): void {
    this.active = true;
  }
}

/**
 * What `/health/ready` reports: not ready while the service starts (its checks are set once
 * it serves) or drains; otherwise every check, run at once, each bounded by 2 s.
 */
export class Readiness {
  private checks?: ReadinessCheck[];

  constructor(readonly draining: Draining = new Draining()) {}

  /** The service is up: from now on readiness is its dependencies'. */
  serving(checks: ReadinessCheck[]): void {
    this.checks = checks;
  }

  async report(): Promise<{ ready: boolean; checks: Record<string, 'up' | 'down'> }> {
    // Shutting down: take no new traffic, whatever the dependencies say.
    if (this.draining.active) return { ready: false, checks: { shutdown: 'down' } };
    if (!this.checks) return { ready: false, checks: { startup: 'down' } };
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
