import type { DataSource } from '@toolbus/persistence';
import { ProblemError } from '@toolbus/service-kit';
import { auditEvent, type AuditInput } from '../events/audit.js';
import { enqueue } from '../events/outbox.js';

/**
 * A governance refusal (another team's tool, a binding only upstreams may make): the problem
 * the caller gets, and the audit event recording it as `denied`. The change it refused rolls
 * back; {@link auditingRefusals} writes the audit event in a transaction of its own.
 */
export class Refusal extends ProblemError {
  audited = false;

  constructor(
    status: 403 | 409,
    code: string,
    detail: string,
    readonly audit: Omit<AuditInput, 'outcome' | 'reason'>,
    extra: ProblemError['extra'] = {},
  ) {
    super(status, code, detail, extra);
  }
}

/**
 * Runs `work`; a {@link Refusal} it throws is audited as denied (once, however many callers
 * wrap it), then rethrown.
 */
export async function auditingRefusals<T>(db: DataSource, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Refusal && !error.audited) {
      error.audited = true;
      await db.transaction((tx) =>
        enqueue(tx, [auditEvent({ ...error.audit, outcome: 'denied', reason: error.detail })]),
      );
    }
    throw error;
  }
}
