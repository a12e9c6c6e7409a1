import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configTable } from '@toolbus/service-kit';
import { describe, expect, it } from 'vitest';
import { toolConsumerConfig } from './index.js';

/** A Markdown table as rows of trimmed cells, whatever Prettier did to its spacing. */
function cells(table: string): string[][] {
  return table
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim().replace(/\\_/g, '_')),
    );
}

describe('README', () => {
  it("lists the consumer's variables as configTable(toolConsumerConfig) does", () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    const table = /<!-- config-table:start[^>]*-->\n([\s\S]*?)\n<!-- config-table:end -->/.exec(
      readme,
    );
    expect(table, 'the config-table markers in README.md').not.toBeNull();
    expect(cells(table![1]!)).toEqual(cells(configTable(toolConsumerConfig)));
  });
});
