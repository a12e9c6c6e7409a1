import { join } from 'node:path';
import { configTable } from '@toolbus/service-kit';
import { readmeTable } from '@toolbus/testing';
import { describe, expect, it } from 'vitest';
import { orchestratorConfig } from './config.js';

describe('README', () => {
  it('documents every configuration variable (UPDATE_README=1 rewrites the table)', () => {
    const { documented, expected } = readmeTable(
      join(import.meta.dirname, '..', 'README.md'),
      configTable(orchestratorConfig),
    );
    expect(documented).toEqual(expected);
  });
});
