import { Controller, Get } from '@nestjs/common';
import { registryApiDocument } from './api-document.js';

/** The registry API's OpenAPI document, for people, client generators and the gateway. */
@Controller()
export class ApiDocsController {
  private readonly document = registryApiDocument();

  @Get('openapi.json')
  get(): Record<string, unknown> {
    return this.document;
  }
}
