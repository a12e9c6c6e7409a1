import { randomUUID } from 'node:crypto';
import {
  describeIssues,
  fromCloudEventHeaders,
  toCloudEventHeaders,
  type CloudEventAttributes,
  type Headers,
} from '@toolbus/contracts';
import { errorMessage, PoisonMessageError } from './errors.js';
import type { ProduceRecord, RawRecord } from './transport.js';
import type { IncomingMessage, OutgoingMessage, SubscribeOptions } from './types.js';

/**
 * A message as a record: the JSON value and the CloudEvents attributes as `ce_*` headers over
 * the caller's headers. `extra` carries the request-reply attributes.
 */
export function encodeRecord<T>(
  source: string,
  topic: string,
  message: OutgoingMessage<T>,
  headers: Headers,
  extra: Partial<CloudEventAttributes>,
  partition?: number,
): ProduceRecord {
  const value = Buffer.from(JSON.stringify(message.value));
  const attrs = toCloudEventHeaders({
    specversion: '1.0',
    id: message.id ?? randomUUID(),
    source,
    type: message.type,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    ...(message.subject === undefined ? {} : { subject: message.subject }),
    ...extra,
  });
  return { topic, partition, key: message.key ?? null, value, headers: { ...headers, ...attrs } };
}

/**
 * A record as a message: envelope, accepted type, JSON value and payload schema checked in
 * that order; the first that fails throws PoisonMessageError saying what was wrong.
 */
export function decodeRecord<T>(
  record: RawRecord,
  signal: AbortSignal,
  options: Pick<SubscribeOptions<T>, 'schema' | 'types'>,
): IncomingMessage<T> {
  let event: CloudEventAttributes;
  try {
    event = fromCloudEventHeaders(record.headers);
  } catch (error) {
    throw new PoisonMessageError(errorMessage(error));
  }
  if (options.types && !options.types.includes(event.type)) {
    throw new PoisonMessageError(
      `unexpected ce_type "${event.type}": this consumer accepts ${options.types.join(', ')}`,
    );
  }
  if (record.value === null || record.value.length === 0)
    throw new PoisonMessageError('message has no value: expected a JSON payload');
  let value: unknown;
  try {
    value = JSON.parse(record.value.toString('utf8'));
  } catch (error) {
    throw new PoisonMessageError(`value is not JSON: ${errorMessage(error)}`);
  }
  if (options.schema) {
    const parsed = options.schema.safeParse(value);
    if (!parsed.success)
      throw new PoisonMessageError(
        `payload does not match ${event.type}: ${describeIssues(parsed.error)}`,
      );
    value = parsed.data;
  }
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key,
    value: value as T,
    headers: record.headers,
    event,
    attempt: 1,
    signal,
  };
}
