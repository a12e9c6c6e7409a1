import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commonConfig, ConfigError, configTable, env, loadConfig } from './index.js';

const spec = {
  ...commonConfig,
  WIDGETS: { schema: env.int(1, 10), default: '3', description: 'How many widgets' },
  API_TOKEN: { schema: env.string(), description: 'Token for the widget API', secret: true },
  MODE: { schema: env.oneOf(['fast', 'safe'] as const), default: 'safe', description: 'Mode' },
  LIMITS: {
    schema: env.json(z.record(z.string(), z.number())),
    default: '{}',
    description: 'Limits per tenant',
  },
};

describe('loadConfig', () => {
  it('parses defaults and values into typed config', () => {
    const c = loadConfig(spec, {
      API_TOKEN: 't0p',
      WIDGETS: '7',
      KAFKA_BROKERS: 'a:1, b:2',
      LIMITS: '{"acme":5}',
    });
    expect(c).toMatchObject({
      PORT: 8080,
      HOST: '127.0.0.1',
      WIDGETS: 7,
      MODE: 'safe',
      KAFKA_BROKERS: ['a:1', 'b:2'],
      LIMITS: { acme: 5 },
    });
    expect(c.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
  });

  it('refuses to start on bad values, naming every variable and hiding secrets', () => {
    let error: unknown;
    try {
      loadConfig(spec, {
        WIDGETS: '11',
        PORT: 'eighty',
        MODE: 'yolo',
        API_TOKEN: '',
        LIMITS: '{oops',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('PORT: invalid value "eighty": must be a whole number');
    expect(message).toContain('WIDGETS: invalid value "11": must be at most 10');
    expect(message).toContain('MODE: invalid value "yolo": must be one of fast, safe');
    expect(message).toContain('API_TOKEN: is required: Token for the widget API');
    expect(message).toContain('LIMITS: invalid value "{oops": must be JSON');
  });

  it('never prints a secret value', () => {
    const secretSpec = { KEY: { schema: z.string().min(10), description: 'key', secret: true } };
    expect(() => loadConfig(secretSpec, { KEY: 'short' })).toThrow(/KEY: invalid \(value hidden\)/);
    expect(() => loadConfig(secretSpec, { KEY: 'short' })).not.toThrow(/short/);
  });

  it('reads a variable from <NAME>_FILE (mounted secrets), the variable itself winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'config-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'from-a-file\n');
    expect(loadConfig(spec, { API_TOKEN_FILE: file }).API_TOKEN).toBe('from-a-file');
    expect(loadConfig(spec, { API_TOKEN: 'direct', API_TOKEN_FILE: file }).API_TOKEN).toBe(
      'direct',
    );
    expect(() => loadConfig(spec, { API_TOKEN_FILE: join(dir, 'missing') })).toThrow(
      /API_TOKEN_FILE: cannot read .*missing: ENOENT/,
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('renders a README table', () => {
    const table = configTable(spec);
    expect(table).toContain('| `WIDGETS` | How many widgets | `3` |  |');
    expect(table).toContain('| `API_TOKEN` | Token for the widget API | **required** | yes |');
    expect(table).toContain('| `KAFKA_BROKERS` |');
  });
});
