export {
  convertOpenApi,
  type ConvertedOperation,
  type ConvertOptions,
} from './openapi-converter.js';
export { OpenApiImportError } from './openapi-import-error.js';
