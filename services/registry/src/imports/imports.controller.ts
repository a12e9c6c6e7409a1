import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import {
  OpenApiImportRequest,
  RegistryScopes,
  type ImportDiff,
  type Principal,
} from '@toolbus/contracts';
import { AuthGuard, CurrentPrincipal, RequireScopes } from '@toolbus/security';
import { invalidInput, ProblemError } from '@toolbus/service-kit';
import { hashOf } from '../catalog/canonical.js';
import { SourceSync } from '../catalog/source-sync.js';
import { convertOpenApi, OpenApiImportError } from './openapi/index.js';

/** Imports OpenAPI documents as draft tools, one per operation, and reports the diff. */
@Controller('v1/imports')
@UseGuards(AuthGuard)
export class ImportsController {
  constructor(@Inject(SourceSync) private readonly sync: SourceSync) {}

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
    return this.sync.apply(caller, {
      source: options.source,
      kind: 'openapi',
      config: options,
      documentHash: hashOf(document),
      tools: converted.map((c) => ({
        operation: c.operation,
        pointer: `/document${c.pointer}`,
        definition: c.definition,
        source: { kind: 'openapi', import: options.source, operation: c.operation },
      })),
      dryRun,
      action: 'registry.import_openapi',
    });
  }
}
