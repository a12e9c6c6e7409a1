import { join } from 'node:path';
import { configTable } from '@toolbus/service-kit';
import { readmeTable } from '@toolbus/testing';
import { describe, expect, it } from 'vitest';
import { toolConsumerConfig } from './index.js';

describe('README', () => {
  it("lists the consumer's variables as configTable(toolConsumerConfig) does (UPDATE_README=1 rewrites it)", () => {
    const { documented, expected } = readmeTable(
      join(import.meta.dirname, '..', 'README.md'),
      configTable(toolConsumerConfig),
    );
    expect(documented).toEqual(expected);
  });
});
