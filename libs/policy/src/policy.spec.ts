import { describe, expect, it } from 'vitest';
import { humanDuration, refusalError, refuse, TenantSettings } from './policy.js';

describe('TenantSettings', () => {
  it('accepts the documented fields', () => {
    expect(
      TenantSettings.parse({
        allowedRegions: ['eu', 'ch'],
        askTokenCap: 4_000,
        monthlyTokenBudget: 1_000_000,
        monthlyUsdBudget: 250.5,
        rateLimitPerMinute: 100,
      }),
    ).toMatchObject({ askTokenCap: 4_000 });
  });

  it.each([
    [{ allowedRegions: ['Europe'] }, 'allowedRegions.0'],
    [{ allowedRegions: [] }, 'allowedRegions'],
    [{ askTokenCap: 0 }, 'askTokenCap'],
    [{ monthlyUsdBudget: -1 }, 'monthlyUsdBudget'],
    [{ rateLimitPerMinute: 1.5 }, 'rateLimitPerMinute'],
    [{ monthlyBudget: 5 }, ''],
  ])('refuses %j, naming %s', (settings, path) => {
    const result = TenantSettings.safeParse(settings);
    expect(result.success).toBe(false);
    expect(result.error!.issues[0]!.path.join('.')).toBe(path);
  });
});

describe('refusalError', () => {
  it('is the structured tool error a model reads', () => {
    const refusal = refuse({
      step: 'arguments',
      code: 'invalid_arguments',
      errorClass: 'validation',
      retryable: false,
      message: 'bad',
      issues: [{ pointer: '/x', message: 'is required' }],
      retryAfterMs: 5,
    });
    expect(refusalError(refusal)).toEqual({
      class: 'validation',
      code: 'invalid_arguments',
      message: 'bad',
      retryable: false,
      issues: [{ pointer: '/x', message: 'is required' }],
    });
  });
});

describe('humanDuration', () => {
  it.each([
    [0, '0.1 s'],
    [1_234, '1.3 s'],
    [54_000, '54 s'],
    [119_001, '120 s'],
    [600_000, '10 min'],
  ])('%i ms: %s', (ms, text) => expect(humanDuration(ms)).toBe(text));
});
