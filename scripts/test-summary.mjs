// Adds up every tier's results (vitest JSON reports, static checks, tier exit codes) and
// prints a table and, last, the one line CI reads: `N passed, N failed[, N skipped]`.
// Exits non-zero when anything failed, including a tier that crashed without a report.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const rows = [];
for (const file of readdirSync(dir).sort()) {
  if (file.endsWith('.checks.json')) {
    const r = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    rows.push({
      tier: r.name,
      project: r.label ?? `(${r.name} checks)`,
      passed: r.passed,
      failed: r.failed,
      skipped: 0,
    });
  } else if (file.endsWith('.json')) {
    const [project, tier] = file.replace(/\.json$/, '').split('.');
    const r = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    // A file that failed to load has no tests but is a failure all the same.
    const brokenSuites = (r.testResults ?? []).filter(
      (s) => s.status === 'failed' && (s.assertionResults ?? []).length === 0,
    ).length;
    rows.push({
      tier,
      project,
      passed: r.numPassedTests ?? 0,
      failed: (r.numFailedTests ?? 0) + brokenSuites,
      skipped: (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0),
    });
  }
}

const tiers = readFileSync(join(dir, 'tiers.tsv'), 'utf8')
  .trim()
  .split('\n')
  .filter(Boolean)
  .map((l) => l.split('\t'))
  .map(([name, rc, seconds]) => ({ name, rc: Number(rc), seconds: Number(seconds) }));
for (const t of tiers) {
  const failedInTier = rows.filter((r) => r.tier === t.name).reduce((n, r) => n + r.failed, 0);
  if (t.rc !== 0 && failedInTier === 0) {
    rows.push({
      tier: t.name,
      project: `(tier exited ${t.rc} without a failed test: see its log above)`,
      passed: 0,
      failed: 1,
      skipped: 0,
    });
  }
}

const sum = (k) => rows.reduce((n, r) => n + r[k], 0);
const pad = (s, n) => String(s).padEnd(n);
console.log(
  '\n' + pad('tier', 12) + pad('project', 44) + pad('passed', 8) + pad('failed', 8) + 'skipped',
);
for (const r of rows)
  console.log(
    pad(r.tier, 12) + pad(r.project, 44) + pad(r.passed, 8) + pad(r.failed, 8) + r.skipped,
  );
console.log('tier times: ' + tiers.map((t) => `${t.name} ${t.seconds}s`).join(', '));
const passed = sum('passed');
const failed = sum('failed');
const skipped = sum('skipped');
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
