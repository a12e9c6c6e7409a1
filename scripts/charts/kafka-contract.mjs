// Prints the Kafka topics the code uses, from libs/contracts itself: platformTopics() and the
// `tool_requests.<service>` pair of a tool consumer. The source is transpiled on the fly
// (topics.ts imports nothing), so no build is needed and the check never reads a stale dist.
// The chart tier's Kafka check (scripts/charts/kafka-check.py) holds the chart's KafkaTopics
// and k8s/kafka-users.yaml to it.
//
//   node scripts/charts/kafka-contract.mjs
//
// Output: { "topics": { "<Topics key>": "<name>" }, "platform": [TopicSpec...],
//           "consumer": [TopicSpec...] } where "consumer" is for the service `SERVICE`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const source = readFileSync(join(root, 'libs/contracts/src/topics.ts'), 'utf8');
const { outputText } = ts.transpileModule(source, {
  compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
});
const dir = mkdtempSync(join(tmpdir(), 'toolbus-topics-'));
try {
  const file = join(dir, 'topics.mjs');
  writeFileSync(file, outputText);
  const { Topics, platformTopics } = await import(pathToFileURL(file).href);
  const platform = platformTopics();
  const names = new Set(platform.map((t) => t.name));
  const consumer = platformTopics(['service']).filter((t) => !names.has(t.name));
  const out = {
    topics: Topics,
    platform,
    consumer: consumer.map((t) => ({ ...t, name: t.name.replace('.service', '.SERVICE') })),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
