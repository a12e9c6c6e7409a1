import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configTable } from '@toolbus/service-kit';
import { describe, expect, it } from 'vitest';
import { erpConfig } from './config.js';

const readme = join(import.meta.dirname, '..', 'README.md');
const START = '<!-- config-table -->';
const END = '<!-- /config-table -->';

/** Cells of a Markdown table, so Prettier's column alignment does not count as drift. */
const cells = (table: string) =>
  table
    .trim()
    .split('\n')
    .filter((line) => !/^\|[\s:|-]+\|$/.test(line))
    .map((line) => line.split(/(?<!\\)\|/).map((c) => c.trim()));

describe('README', () => {
  it('documents every configuration variable (UPDATE_README=1 rewrites the table)', () => {
    const text = readFileSync(readme, 'utf8');
    const table = configTable(erpConfig);
    const current = text.slice(text.indexOf(START) + START.length, text.indexOf(END)).trim();
    if (process.env['UPDATE_README'] === '1' && current !== table) {
      writeFileSync(
        readme,
        text.replace(
          `${START}${text.slice(text.indexOf(START) + START.length, text.indexOf(END))}${END}`,
          `${START}\n${table}\n${END}`,
        ),
      );
      return;
    }
    expect(cells(current)).toEqual(cells(table));
  });
});
