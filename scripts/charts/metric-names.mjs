// Prints every Prometheus metric the code registers, taken from the code: each
// `new Counter|Gauge|Histogram({ name, labelNames })` of prom-client in the production sources of
// libs/, services/ and apps/, read with the TypeScript parser (the registrations are lazy
// factories, most not exported, so importing the modules would not reach them). The chart
// tier's metric check (scripts/charts/metrics-check.py) holds the dashboard and the
// PrometheusRule to it.
//
//   node scripts/charts/metric-names.mjs
//
// Output: { "<name>": { "type": "counter|gauge|histogram", "labels": [...], "from": "<file>" } }.
// A registration whose name or labels are not literals stops the script: the check could not
// vouch for it.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TYPES = { Counter: 'counter', Gauge: 'gauge', Histogram: 'histogram', Summary: 'summary' };
const SKIP_DIRS = new Set(['node_modules', 'dist', 'coverage', 'test', '.nx']);

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) yield* sources(join(dir, entry.name));
    } else if (/\.ts$/.test(entry.name) && !/\.(spec|int-spec|e2e-spec|d)\.ts$/.test(entry.name)) {
      yield join(dir, entry.name);
    }
  }
}

function literal(node, what, file) {
  if (node && (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))) {
    return node.text;
  }
  console.error(`metric-names: ${file}: ${what} is not a string literal`);
  process.exit(2);
}

const out = {};
for (const top of ['libs', 'services', 'apps']) {
  for (const file of sources(join(root, top))) {
    const text = readFileSync(file, 'utf8');
    if (!/\bnew (Counter|Gauge|Histogram|Summary)\b/.test(text)) continue;
    const rel = relative(root, file);
    const visit = (node) => {
      if (
        ts.isNewExpression(node) &&
        ts.isIdentifier(node.expression) &&
        TYPES[node.expression.text] &&
        node.arguments?.[0] &&
        ts.isObjectLiteralExpression(node.arguments[0])
      ) {
        const props = Object.fromEntries(
          node.arguments[0].properties
            .filter((p) => ts.isPropertyAssignment(p) && ts.isIdentifier(p.name))
            .map((p) => [p.name.text, p.initializer]),
        );
        const name = literal(props.name, 'a metric name', rel);
        const labelsNode = props.labelNames;
        let labels = [];
        if (labelsNode) {
          if (!ts.isArrayLiteralExpression(labelsNode)) {
            console.error(`metric-names: ${rel}: labelNames of ${name} is not an array literal`);
            process.exit(2);
          }
          labels = labelsNode.elements.map((e) => literal(e, `a label of ${name}`, rel));
        }
        if (out[name]) {
          console.error(`metric-names: ${name} is registered twice (${out[name].from}, ${rel})`);
          process.exit(2);
        }
        out[name] = { type: TYPES[node.expression.text], labels, from: rel };
      }
      ts.forEachChild(node, visit);
    };
    visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true));
  }
}
if (Object.keys(out).length === 0) {
  console.error('metric-names: found no metric registrations');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
