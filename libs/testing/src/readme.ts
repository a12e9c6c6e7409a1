import { readFileSync, writeFileSync } from 'node:fs';

/** A Markdown table as rows of trimmed cells, so Prettier's column alignment is not drift. */
function cells(table: string): string[][] {
  return table
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
    .map((line) => line.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\_/g, '_')));
}

/**
 * Checks that the table between `<!-- name -->` and `<!-- /name -->` in a README says what
 * `table` says (e.g. a service's config table from its config spec). With UPDATE_README=1 it
 * rewrites the section instead. Returns the two tables as cells for the test to compare.
 */
export function readmeTable(
  readmePath: string,
  table: string,
  name = 'config-table',
): { documented: string[][]; expected: string[][] } {
  const start = `<!-- ${name} -->`;
  const end = `<!-- /${name} -->`;
  const text = readFileSync(readmePath, 'utf8');
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${readmePath} has no ${start} ... ${end} section`);
  const current = text.slice(from + start.length, to);
  if (process.env['UPDATE_README'] === '1' && cells(current).join() !== cells(table).join()) {
    writeFileSync(readmePath, `${text.slice(0, from + start.length)}\n${table}\n${text.slice(to)}`);
    return { documented: cells(table), expected: cells(table) };
  }
  return { documented: cells(current), expected: cells(table) };
}
