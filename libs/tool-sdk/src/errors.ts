import { randomUUID } from 'node:crypto';
import { jsonPointer, type ErrorClass, type FieldIssue, type SafeError } from '@toolbus/contracts';
import type { z } from 'zod';

/**
 * A failure the tool reports on purpose (customer not found, limit too high): final, and its
 * message is shown to the model as written, so keep it free of secrets.
 */
export class BusinessError extends Error {
  override readonly name = 'BusinessError';
  constructor(
    readonly code: string,
    message: string,
    readonly errorClass: Extract<
      ErrorClass,
      'business' | 'not_found' | 'forbidden' | 'validation'
    > = 'business',
  ) {
    super(message);
  }
}

/** A dependency of the tool is unreachable or slow: the caller may try again. */
export class RetryableToolError extends Error {
  override readonly name = 'RetryableToolError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Zod issues as field issues: a JSON pointer and what was expected. */
export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.slice(0, 100).map((i) => {
    const expected = 'expected' in i && typeof i.expected === 'string' ? i.expected : undefined;
    return { pointer: jsonPointer(i.path), message: i.message, ...(expected ? { expected } : {}) };
  });
}

export function validationError(code: string, what: string, error: z.ZodError): SafeError {
  const issues = fieldIssues(error);
  return {
    class: 'validation',
    code,
    message: `${what}: ${issues.map((i) => `${i.pointer} ${i.message}`).join('; ')}`.slice(0, 2000),
    retryable: false,
    issues,
  };
}

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01',
  '57P03',
  '53300',
  '08006',
  '08001',
  '40001',
  '40P01',
]);

/**
 * Classifies anything a handler throws into an error safe to show a model: business errors
 * keep their message; connection-type failures are retryable with a generic message; anything
 * else becomes "internal" with a reference the logs carry — never a stack trace or a secret.
 */
export function classify(error: unknown): { safe: SafeError; ref?: string } {
  if (error instanceof BusinessError) {
    return {
      safe: {
        class: error.errorClass,
        code: error.code,
        message: error.message.slice(0, 2000),
        retryable: false,
      },
    };
  }
  if (error instanceof RetryableToolError) {
    return {
      safe: {
        class: 'unavailable',
        code: error.code,
        message: error.message.slice(0, 2000),
        retryable: true,
      },
    };
  }
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) {
    return {
      safe: {
        class: 'unavailable',
        code: 'dependency_unavailable',
        message: 'a system the tool depends on is unavailable; try again',
        retryable: true,
      },
    };
  }
  const ref = randomUUID().slice(0, 8);
  return {
    safe: {
      class: 'internal',
      code: 'internal_error',
      message: `the tool failed unexpectedly (reference ${ref})`,
      retryable: false,
    },
    ref,
  };
}
