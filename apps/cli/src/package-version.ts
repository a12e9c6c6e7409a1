import { readFileSync } from 'node:fs';

let version: string | undefined;

/** The CLI's version, from its package.json (for --version and the User-Agent). */
export function packageVersion(): string {
  // dist/package-version.js and src/package-version.ts both sit one level below package.json.
  version ??= (
    JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    }
  ).version;
  return version;
}
