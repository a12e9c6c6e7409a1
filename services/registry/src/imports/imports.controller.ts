import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import {
  OpenApiImportRequest,
  RegistryScopes,
  type ImportDiff,
  type Principal,
} from '@toolbus/contracts';
import { AuthGuard, CurrentPrincipal, RequireScopes } from '@toolbus/security';
import { invalidInput, ProblemError, SERVICE_CONFIG } from '@toolbus/service-kit';
import { hashOf } from '../catalog/canonical.js';
import { credentialIssue } from '../catalog/credential-check.js';
import { SourceSync } from '../catalog/source-sync.js';
import type { RegistryConfig } from '../config.js';
import { defaultScope } from './default-scope.js';
import { convertOpenApi, OpenApiImportError } from './openapi/index.js';

/** Imports OpenAPI documents as draft tools, one per operation, and reports the diff. */
@Controller('v1/imports')
@UseGuards(AuthGuard)
export class ImportsController {
  constructor(
    @Inject(SourceSync) private readonly sync: SourceSync,
    @Inject(SERVICE_CONFIG) private readonly config: RegistryConfig,
  ) {}

  @Post('openapi')
  @HttpCode(200)
  @RequireScopes(RegistryScopes.write)
  async importOpenApi(
    @Body() body: unknown,
    @CurrentPrincipal() caller: Principal,
  ): Promise<ImportDiff> {
    const request = OpenApiImportRequest.safeParse(body ?? {});
    if (!request.success) throw invalidInput('invalid import request', request.error);
    const { document, dryRun, ...options } = request.data;
    let converted;
    try {
      converted = await convertOpenApi(document, options);
    } catch (error) {
      if (!(error instanceof OpenApiImportError)) throw error;
      // Pointers lead into the document, which the request carries as /document.
      throw new ProblemError(422, 'invalid_openapi', error.message, {
        issues: error.issues.map((i) => ({
          ...i,
          pointer: i.pointer.startsWith('/baseUrl')
            ? i.pointer
            : `/document${i.pointer === '/' ? '' : i.pointer}`,
        })),
      });
    }
    // The import's secret goes to the API's origin: refused up front when it may not.
    const credential = converted
      .map((c) =>
        credentialIssue(this.config.CREDENTIAL_ORIGINS, c.definition.binding, '/credentialsSecret'),
      )
      .find((issue) => issue !== undefined);
    if (credential)
      throw new ProblemError(
        422,
        'credential_origin',
        `${credential.pointer}: ${credential.message}`,
        {
          issues: [credential],
        },
      );
    // An operation without security requirements is not open to all: it gets the default scope.
    const scope = defaultScope(this.config.IMPORT_DEFAULT_SCOPE, options.source);
    return this.sync.apply(caller, {
      source: options.source,
      kind: 'openapi',
      owner: options.owner,
      config: options,
      documentHash: hashOf(document),
      tools: converted.map((c) => ({
        operation: c.operation,
        pointer: `/document${c.pointer}`,
        definition: c.definition.scopes.length
          ? c.definition
          : { ...c.definition, scopes: [scope] },
        source: { kind: 'openapi', import: options.source, operation: c.operation },
      })),
      dryRun,
      action: 'registry.import_openapi',
    });
  }
}
