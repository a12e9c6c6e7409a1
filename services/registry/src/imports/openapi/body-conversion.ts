import type { HttpBinding } from '@toolbus/contracts';
import {
  asObjectSchema,
  isJsonMediaType,
  mediaEssence,
  operationSchema,
  text,
  type ConversionContext,
  type OperationRef,
  type ToolInput,
} from './conversion-context.js';
import { isObject } from './document-validation.js';
import { uniqueField } from './naming.js';
import { childPointer } from './openapi-import-error.js';

const FORM = 'application/x-www-form-urlencoded';

/** One entry of a request body's `content`. */
interface MediaEntry {
  mediaType: string;
  media: unknown;
  essence: string;
}

/**
 * The request body as the `body` property (`request_body` when a parameter took that name),
 * JSON preferred, then form-urlencoded. A required body in no supported format is an issue;
 * an optional one is left out, and the tool calls without it.
 */
export function convertBody(
  ctx: ConversionContext,
  ref: OperationRef,
  input: ToolInput,
): HttpBinding['body'] | undefined {
  if (ref.operation['requestBody'] === undefined) return undefined;
  const located = ctx.resolver.follow(
    ref.operation['requestBody'],
    childPointer(ref.pointer, 'requestBody'),
    ctx.issues,
  );
  if (!located || !isObject(located.value)) return undefined;
  const requestBody = located.value;
  const content = isObject(requestBody['content']) ? requestBody['content'] : {};
  const isRequired = requestBody['required'] === true;
  const entries: MediaEntry[] = Object.entries(content).map(([mediaType, media]) => ({
    mediaType,
    media,
    essence: mediaEssence(mediaType),
  }));
  const chosen = chooseMedia(entries);
  if (!chosen) {
    if (isRequired) {
      const found = entries.map((entry) => entry.mediaType).join(', ') || 'none';
      ctx.issues.push({
        pointer: childPointer(located.pointer, 'content'),
        message: `${ref.label}the required request body has no supported media type (found ${found}); the HTTP executor sends application/json or ${FORM}`,
      });
    }
    return undefined;
  }
  const schema = bodySchema(ctx, ref, chosen, located.pointer);
  if (schema === undefined) return undefined;
  const description = text(requestBody['description']);
  if (description !== undefined) schema['description'] = description;
  const field = bodyField(input.taken);
  input.taken.add(field);
  input.properties[field] = schema;
  if (isRequired) input.required.push(field);
  const contentType = chosen.essence === FORM ? FORM : 'application/json';
  return { field, contentType, required: isRequired };
}

function chooseMedia(entries: MediaEntry[]): MediaEntry | undefined {
  return (
    entries.find((entry) => entry.essence === 'application/json') ??
    entries.find((entry) => isJsonMediaType(entry.essence)) ??
    entries.find((entry) => entry.essence === FORM)
  );
}

/** The chosen media type's schema as an object schema; `{}` when it declares none. */
function bodySchema(
  ctx: ConversionContext,
  ref: OperationRef,
  chosen: MediaEntry,
  bodyPointer: string,
): Record<string, unknown> | undefined {
  const media = isObject(chosen.media) ? chosen.media : {};
  if (media['schema'] === undefined) return {};
  const converted = operationSchema(
    ctx,
    ref,
    media['schema'],
    childPointer(bodyPointer, 'content', chosen.mediaType, 'schema'),
    'input',
  );
  return converted === undefined ? undefined : asObjectSchema(converted);
}

function bodyField(taken: Set<string>): string {
  if (!taken.has('body')) return 'body';
  if (!taken.has('request_body')) return 'request_body';
  return uniqueField('request_body', 'body', taken);
}
