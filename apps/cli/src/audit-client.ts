import { AuditChainPage, AuditPage, AuditPaths, type AuditDecision } from '@toolbus/contracts';
import { ApiClient, type ApiAnswer, type ApiClientOptions } from './api-client.js';

/** The filters of `toolbus audit list`, as `GET /v1/audit` takes them. */
export interface AuditListQuery {
  tenant?: string;
  principal?: string;
  tool?: string;
  action?: string;
  decision?: AuditDecision;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
}

/** The audit ledger's read API on the orchestrator (see {@link ApiClient}). */
export class AuditClient extends ApiClient {
  constructor(options: ApiClientOptions) {
    super(options, 'orchestrator');
  }

  list(query: AuditListQuery): Promise<ApiAnswer<AuditPage>> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query))
      if (value !== undefined) params.set(name, String(value));
    const search = params.size ? `?${params}` : '';
    return this.call('GET', `${AuditPaths.list}${search}`, AuditPage);
  }

  chain(after: number, limit?: number): Promise<ApiAnswer<AuditChainPage>> {
    const params = new URLSearchParams({ after: String(after) });
    if (limit !== undefined) params.set('limit', String(limit));
    return this.call('GET', `${AuditPaths.chain}?${params}`, AuditChainPage);
  }
}
