import {
  asObjectSchema,
  isJsonMediaType,
  mediaEssence,
  operationSchema,
  type ConversionContext,
  type OperationRef,
} from './conversion-context.js';
import { isObject } from './document-validation.js';
import { childPointer } from './openapi-import-error.js';

/**
 * The JSON schema of the first 2xx response (200, 201, … 299, then 2XX) with JSON content;
 * none for HEAD, for 204 and other bodiless responses, and for non-JSON bodies.
 */
export function convertOutput(
  ctx: ConversionContext,
  ref: OperationRef,
): Record<string, unknown> | undefined {
  if (ref.method === 'head') return undefined;
  const responses = ref.operation['responses'];
  if (!isObject(responses)) return undefined;
  const codes = Object.keys(responses)
    .filter((code) => /^2\d\d$/.test(code))
    .sort();
  codes.push(...Object.keys(responses).filter((code) => /^2xx$/i.test(code)));
  for (const code of codes) {
    const pointer = childPointer(ref.pointer, 'responses', code);
    const located = ctx.resolver.follow(responses[code], pointer, ctx.issues);
    if (!located || !isObject(located.value) || !isObject(located.value['content'])) continue;
    const content = located.value['content'];
    const mediaType =
      Object.keys(content).find((type) => mediaEssence(type) === 'application/json') ??
      Object.keys(content).find((type) => isJsonMediaType(mediaEssence(type)));
    const media = mediaType !== undefined ? content[mediaType] : undefined;
    if (mediaType === undefined || !isObject(media) || media['schema'] === undefined) continue;
    const converted = operationSchema(
      ctx,
      ref,
      media['schema'],
      childPointer(located.pointer, 'content', mediaType, 'schema'),
      'output',
    );
    return converted === undefined ? undefined : asObjectSchema(converted);
  }
  return undefined;
}
