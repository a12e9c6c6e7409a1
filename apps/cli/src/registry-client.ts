import {
  ImportDiff,
  RegistryPaths,
  ToolPage,
  ToolVersionRecord,
  type LifecycleAction,
  type OpenApiImportRequest,
  type ToolStatus,
} from '@toolbus/contracts';
import { z } from 'zod';
import { ApiClient, type ApiAnswer, type ApiClientOptions } from './api-client.js';

// The registry's names for the errors every API client throws (its commands came first).
export {
  ApiRefusedError as RegistryRefusedError,
  ApiUnreachableError as RegistryUnreachableError,
  pointerOf,
  Problem,
  UnexpectedResponseError,
  zodIssues,
  type ApiAnswer,
} from './api-client.js';

/** Body of GET /v1/tools/{name}/versions. */
export const ToolVersionList = z.object({ items: z.array(ToolVersionRecord) });
export type ToolVersionList = z.infer<typeof ToolVersionList>;

export type RegistryClientOptions = ApiClientOptions;

export interface SearchQuery {
  q?: string;
  tags?: string[];
  owner?: string;
  region?: string;
  status?: ToolStatus[];
  limit?: number;
  cursor?: string;
}

/** Body of an OpenAPI import as the CLI sends it: the document as text. */
export type OpenApiImportBody = z.input<typeof OpenApiImportRequest> & { document: string };

/**
 * The registry's HTTP API as the CLI uses it (see {@link ApiClient}).
 */
export class RegistryClient extends ApiClient {
  constructor(options: RegistryClientOptions) {
    super(options, 'registry');
  }

  searchTools(query: SearchQuery): Promise<ApiAnswer<ToolPage>> {
    const params = new URLSearchParams();
    if (query.q) params.set('q', query.q);
    for (const tag of query.tags ?? []) params.append('tag', tag);
    if (query.owner) params.set('owner', query.owner);
    if (query.region) params.set('region', query.region);
    if (query.status?.length) params.set('status', query.status.join(','));
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.cursor) params.set('cursor', query.cursor);
    const search = params.size ? `?${params}` : '';
    return this.call('GET', `${RegistryPaths.tools}${search}`, ToolPage);
  }

  /** The newest served version of `name`, or exactly `name@version` when a version is given. */
  getTool(name: string, version?: string): Promise<ApiAnswer<ToolVersionRecord>> {
    const path =
      version === undefined ? RegistryPaths.tool(name) : RegistryPaths.toolVersion(name, version);
    return this.call('GET', path, ToolVersionRecord);
  }

  toolVersions(name: string): Promise<ApiAnswer<ToolVersionList>> {
    return this.call('GET', RegistryPaths.toolVersions(name), ToolVersionList);
  }

  importOpenApi(body: OpenApiImportBody): Promise<ApiAnswer<ImportDiff>> {
    return this.call('POST', RegistryPaths.importOpenApi, ImportDiff, body);
  }

  lifecycle(
    name: string,
    version: string,
    action: LifecycleAction,
    reason?: string,
  ): Promise<ApiAnswer<ToolVersionRecord>> {
    return this.call(
      'POST',
      RegistryPaths.lifecycle(name, version, action),
      ToolVersionRecord,
      reason === undefined ? {} : { reason },
    );
  }
}
