import { Controller, Get } from '@nestjs/common';
import { Public } from '@toolbus/security';
import { registryApiDocument } from './api-document.js';

/** The registry API's OpenAPI document, for people, client generators and the gateway. */
@Controller()
@Public('the API description, for client generators and the gateway before they hold a token')
export class ApiDocsController {
  private readonly document = registryApiDocument();

  @Get('openapi.json')
  get(): Record<string, unknown> {
    return this.document;
  }
}
