import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import {
  McpUpstreamRequest,
  RegistryScopes,
  type ImportDiff,
  type McpUpstreamRecord,
  type Principal,
} from '@toolbus/contracts';
import { AuthGuard, CurrentPrincipal, RequireScopes } from '@toolbus/security';
import { invalidInput } from '@toolbus/service-kit';
import { UpstreamService } from './upstream.service.js';

/**
 * Upstream MCP servers. Registering one makes the registry connect to it (or, for stdio, run
 * its command), so it needs registry:admin.
 */
@Controller('v1/upstreams/mcp')
@UseGuards(AuthGuard)
export class UpstreamsController {
  constructor(@Inject(UpstreamService) private readonly upstreams: UpstreamService) {}

  /** Filtered like the catalog: the upstreams whose tools the caller may see. */
  @Get()
  @RequireScopes(RegistryScopes.read)
  async list(@CurrentPrincipal() caller: Principal): Promise<{ items: McpUpstreamRecord[] }> {
    return { items: await this.upstreams.list(caller) };
  }

  @Post()
  @HttpCode(201)
  @RequireScopes(RegistryScopes.admin)
  async register(
    @Body() body: unknown,
    @CurrentPrincipal() caller: Principal,
  ): Promise<{ upstream: McpUpstreamRecord; diff: ImportDiff }> {
    const request = McpUpstreamRequest.safeParse(body ?? {});
    if (!request.success) throw invalidInput('invalid upstream', request.error);
    return this.upstreams.register(caller, request.data);
  }

  @Get(':name')
  @RequireScopes(RegistryScopes.read)
  async get(
    @Param('name') name: string,
    @CurrentPrincipal() caller: Principal,
  ): Promise<McpUpstreamRecord> {
    return this.upstreams.get(caller, name);
  }

  @Post(':name/sync')
  @HttpCode(200)
  @RequireScopes(RegistryScopes.write)
  async sync(
    @Param('name') name: string,
    @CurrentPrincipal() caller: Principal,
  ): Promise<ImportDiff> {
    return this.upstreams.syncNow(caller, name);
  }

  @Delete(':name')
  @HttpCode(204)
  @RequireScopes(RegistryScopes.admin)
  async remove(@Param('name') name: string, @CurrentPrincipal() caller: Principal): Promise<void> {
    await this.upstreams.remove(caller, name);
  }
}
