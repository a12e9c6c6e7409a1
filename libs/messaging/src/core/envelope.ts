import { randomUUID } from 'node:crypto';
import {
  fromCloudEventHeaders,
  toCloudEventHeaders,
  type CloudEventAttributes,
  type Headers,
} from '@toolbus/contracts';
import { errorMessage, PoisonMessageError } from './errors.js';
import type { PayloadReader } from './payload-reader.js';
import type { ProduceRecord, RawRecord } from './transport.js';
import type { IncomingMessage, OutgoingMessage } from './types.js';

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
 * A record as a message: envelope, accepted type, JSON value and payload (by `reader`) checked
 * in that order; the first that fails throws PoisonMessageError saying what was wrong.
 */
export function decodeRecord<T>(
  record: RawRecord,
  signal: AbortSignal,
  reader: PayloadReader,
): IncomingMessage<T> {
  let event: CloudEventAttributes;
  try {
    event = fromCloudEventHeaders(record.headers);
  } catch (error) {
    throw new PoisonMessageError(errorMessage(error));
  }
  if (reader.types && !reader.types.includes(event.type)) {
    throw new PoisonMessageError(
      `unexpected ce_type "${event.type}": this consumer accepts ${reader.types.join(', ')}`,
    );
  }
  if (record.value === null || record.value.length === 0)
    throw new PoisonMessageError('message has no value: expected a JSON payload');
  let json: unknown;
  try {
    json = JSON.parse(record.value.toString('utf8'));
  } catch (error) {
    throw new PoisonMessageError(`value is not JSON: ${errorMessage(error)}`);
  }
  const { value, kind } = reader.read(event.type, json);
  return {
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    key: record.key,
    value: value as T,
    headers: record.headers,
    event,
    ...(kind ? { kind } : {}),
    attempt: 1,
    signal,
  };
}
