import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Query,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import {
  LifecycleAction,
  RegistryScopes,
  type Principal,
  type RegisterToolResponse,
  type ToolVersionRecord,
} from '@toolbus/contracts';
import { AuthGuard, CurrentPrincipal, RequireScopes } from '@toolbus/security';
import { invalidInput, ProblemError } from '@toolbus/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CatalogService } from './catalog.service.js';
import { validateDefinition } from './definition-validator.js';
import { LifecycleBody, SearchParams } from './dto.js';
import { quotedString, sendWithEtag } from './http.js';

export const CATALOG_PAGE_LIMIT = Symbol('CATALOG_PAGE_LIMIT');

/** The catalog over HTTP: search, resolve, register versions, and move them through review. */
@Controller('v1')
@UseGuards(AuthGuard)
export class ToolsController {
  constructor(
    @Inject(CatalogService) private readonly catalog: CatalogService,
    @Inject(CATALOG_PAGE_LIMIT) pageLimit: number,
  ) {
    this.searchParams = SearchParams(pageLimit);
  }

  private readonly searchParams: ReturnType<typeof SearchParams>;

  @Get('tools')
  @RequireScopes(RegistryScopes.read)
  async search(
    @Query() raw: unknown,
    @CurrentPrincipal() caller: Principal,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const query = this.searchParams.safeParse(raw ?? {});
    if (!query.success) throw invalidInput('invalid query', query.error);
    const { tag, ...rest } = query.data;
    const page = await this.catalog.search(caller, { ...rest, tags: tag });
    await sendWithEtag(request, reply, page);
  }

  @Post('tools')
  @HttpCode(201)
  @RequireScopes(RegistryScopes.write)
  async create(
    @Body() body: unknown,
    @CurrentPrincipal() caller: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RegisterToolResponse> {
    const definition = validateDefinition(body);
    const result = await this.catalog.register(caller, definition);
    reply.status(result.created ? 201 : 200);
    return result;
  }

  /** With registry:catalog (the executors' token) every served tool, else the caller's own. */
  @Get('catalog')
  @RequireScopes(RegistryScopes.read)
  async snapshot(
    @CurrentPrincipal() caller: Principal,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await sendWithEtag(request, reply, await this.catalog.snapshot(caller));
  }

  /** `name` gives the newest approved version; `name@version` that version. */
  @Get('tools/:ref')
  @RequireScopes(RegistryScopes.read)
  async get(
    @Param('ref') ref: string,
    @CurrentPrincipal() caller: Principal,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const at = ref.indexOf('@');
    const record =
      at < 0
        ? await this.catalog.resolve(caller, ref)
        : await this.served(caller, ref.slice(0, at), ref.slice(at + 1));
    await sendWithEtag(request, reply, record, deprecationHeaders(record));
  }

  @Get('tools/:name/versions')
  @RequireScopes(RegistryScopes.read)
  async versions(
    @Param('name') name: string,
    @CurrentPrincipal() caller: Principal,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    await sendWithEtag(request, reply, { items: await this.catalog.versions(caller, name) });
  }

  @Get('tools/:name/versions/:version')
  @RequireScopes(RegistryScopes.read)
  async version(
    @Param('name') name: string,
    @Param('version') version: string,
    @CurrentPrincipal() caller: Principal,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const record = await this.catalog.version(caller, name, version);
    await sendWithEtag(request, reply, record, deprecationHeaders(record));
  }

  /** Registers a version (what tool consumers call at start-up): 201 created, 200 identical. */
  @Put('tools/:name/versions/:version')
  @RequireScopes(RegistryScopes.write)
  async register(
    @Param('name') name: string,
    @Param('version') version: string,
    @Body() body: unknown,
    @CurrentPrincipal() caller: Principal,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<RegisterToolResponse> {
    const definition = validateDefinition(body);
    const issues = [
      ...(definition.name !== name
        ? [{ pointer: '/name', message: `must match the path ("${name}")` }]
        : []),
      ...(definition.version !== version
        ? [{ pointer: '/version', message: `must match the path ("${version}")` }]
        : []),
    ];
    if (issues.length)
      throw new ProblemError(
        422,
        'invalid_definition',
        'the body names another tool version than the path',
        {
          issues,
        },
      );
    const result = await this.catalog.register(caller, definition);
    reply.status(result.created ? 201 : 200);
    return result;
  }

  /** Every transition is a reviewer's decision; approving is also subject to four eyes. */
  @Post('tools/:name/versions/:version/:action')
  @HttpCode(200)
  @RequireScopes(RegistryScopes.approve)
  async lifecycle(
    @Param('name') name: string,
    @Param('version') version: string,
    @Param('action') action: string,
    @Body() body: unknown,
    @CurrentPrincipal() caller: Principal,
  ): Promise<ToolVersionRecord> {
    const parsedAction = LifecycleAction.safeParse(action);
    if (!parsedAction.success)
      throw new ProblemError(
        404,
        'not_found',
        `unknown action "${action}"; use approve, deprecate or retire`,
      );
    const request = LifecycleBody.safeParse(body ?? {});
    if (!request.success) throw invalidInput('invalid request', request.error);
    return this.catalog.transition(caller, name, version, parsedAction.data, request.data.reason);
  }

  private async served(
    caller: Principal,
    name: string,
    version: string,
  ): Promise<ToolVersionRecord> {
    const record = await this.catalog.version(caller, name, version);
    if (record.status === 'retired')
      throw new ProblemError(410, 'retired', `${name}@${version} is retired and no longer served`);
    if (record.status === 'draft')
      throw new ProblemError(
        404,
        'not_found',
        `${name}@${version} is a draft awaiting approval; it is not served`,
      );
    return record;
  }
}

/**
 * `Deprecation` and an RFC 9110 `Warning` for a deprecated version. The reason is a reviewer's
 * free text: in the header it is an ASCII quoted-string (a line break or a character outside
 * Latin-1 would make Node refuse the header and every read answer 500); the body keeps it whole.
 */
export function deprecationHeaders(record: ToolVersionRecord): Record<string, string> {
  if (record.status !== 'deprecated') return {};
  const why = record.statusReason ? `: ${record.statusReason}` : '';
  return {
    deprecation: 'true',
    warning: `299 toolbus-registry ${quotedString(`${record.name}@${record.version} is deprecated${why}`)}`,
  };
}
