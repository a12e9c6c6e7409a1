import type { Logger } from '@toolbus/observability';

/** The phases of a shutdown, in the order they run. */
const PHASES = ['consumers', 'workers', 'resources', 'bus', 'database', 'http'] as const;
export type ShutdownPhase = (typeof PHASES)[number];

const MIN_STEP_MS = 500;

interface Step {
  phase: ShutdownPhase;
  what: string;
  run(): void | Promise<void>;
}

/**
 * The one shutdown path of a service. Steps run phase by phase (consumers drain first, the HTTP
 * server closes last), the last-added step of a phase first, within one deadline: a step that
 * hangs past it is abandoned, logged, and the rest still run, so the process always ends.
 * Running it twice returns the first run.
 */
export class ShutdownSequence {
  private readonly steps: Step[] = [];
  private readonly beginHooks: Array<() => void> = [];
  private running?: Promise<void>;
  private deadline = Number.POSITIVE_INFINITY;

  constructor(
    private readonly logger: Logger,
    private readonly deadlineMs: number,
  ) {}

  add(phase: ShutdownPhase, what: string, run: () => void | Promise<void>): void {
    this.steps.push({ phase, what, run });
  }

  /** Runs first, synchronously (readiness starts failing). */
  onBegin(hook: () => void): void {
    this.beginHooks.push(hook);
  }

  /** Milliseconds left of the deadline (at least 0) for steps that take a deadline of their own. */
  remainingMs(): number {
    return Math.max(0, Math.min(this.deadlineMs, this.deadline - Date.now()));
  }

  run(): Promise<void> {
    this.running ??= this.execute();
    return this.running;
  }

  /** True when a step failed or ran past the deadline. */
  get failed(): boolean {
    return this.stepFailed;
  }

  /** SIGTERM/SIGINT run the sequence, then exit 0 (1 when a step failed). */
  exitOnSignals(name: string): void {
    const onSignal = (signal: NodeJS.Signals) => {
      this.logger.info({ signal }, `${name} shutting down`);
      this.run().then(
        () => process.exit(this.stepFailed ? 1 : 0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  private stepFailed = false;

  private async execute(): Promise<void> {
    this.deadline = Date.now() + this.deadlineMs;
    for (const hook of this.beginHooks) hook();
    for (const phase of PHASES) {
      const steps = this.steps.filter((s) => s.phase === phase).reverse();
      for (const step of steps) await this.runStep(step);
    }
  }

  private async runStep(step: Step): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    // Every step gets a moment even when the deadline is spent, so the database and the HTTP
    // server are still closed after a consumer that would not drain.
    const budget = Math.max(MIN_STEP_MS, this.deadline - Date.now());
    try {
      const outcome = await Promise.race([
        Promise.resolve()
          .then(step.run)
          .then(() => 'done' as const),
        new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), budget))),
      ]);
      if (outcome === 'late') {
        this.stepFailed = true;
        this.logger.error({ step: step.what }, 'shutdown step ran past the deadline; moving on');
      }
    } catch (error) {
      this.stepFailed = true;
      this.logger.error({ err: error, step: step.what }, 'shutdown step failed');
    } finally {
      clearTimeout(timer);
    }
  }
}
