import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AllMessageKinds, messageKind, Messages } from './catalog.js';
import { exportJsonSchemas } from './json-schema.js';
import { releaseCompatProblems, type JsonSchema } from './schema-compat.js';
import { ToolCallRequested } from './tool-call.js';

/**
 * The exported JSON Schemas against the copy frozen at the last release
 * (`schemas/released/<version>/`, written by `nx run contracts:release-schemas`): other
 * languages validate with those files, so a breaking change to a released message must come as
 * a new version beside it (docs/contracts.md).
 */
const releasedRoot = join(import.meta.dirname, '..', 'schemas', 'released');

function lastRelease(): { version: string; schemas: Record<string, JsonSchema> } {
  const semver = (v: string) => v.split('.').map(Number);
  const [version] = readdirSync(releasedRoot)
    .filter((d) => /^\d+\.\d+\.\d+$/.test(d))
    .sort((a, b) => {
      const [x, y] = [semver(a), semver(b)];
      return y[0]! - x[0]! || y[1]! - x[1]! || y[2]! - x[2]!;
    });
  if (!version) throw new Error(`no released schemas under ${releasedRoot}`);
  const dir = join(releasedRoot, version);
  const schemas: Record<string, JsonSchema> = {};
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.schema.json'))) {
    schemas[f] = JSON.parse(readFileSync(join(dir, f), 'utf8')) as JsonSchema;
  }
  return { version, schemas };
}

const release = lastRelease();
const current = exportJsonSchemas() as Record<string, JsonSchema>;
const FILE = 'tool_call.requested.schema.json';

type Obj = Record<string, unknown>;

/** The object at a JSON pointer inside a schema, to change it in place. */
const at = (schema: Obj, pointer: string): Obj =>
  pointer
    .split('/')
    .slice(1)
    .reduce((node, key) => node[key] as Obj, schema);

/** A copy of the current export with tool_call.requested changed by `mutate`. */
function mutated(mutate: (schema: Obj) => void): Record<string, JsonSchema> {
  const copy = structuredClone(current) as Record<string, Obj>;
  mutate(copy[FILE]!);
  return copy;
}

describe(`JSON Schemas against release ${release.version}`, () => {
  it('has a frozen copy of every message and shared schema', () => {
    expect(Object.keys(release.schemas).length).toBeGreaterThanOrEqual(19);
    expect(release.schemas[FILE]).toMatchObject({
      'x-cloudevents-type': 'dev.toolbus.tool_call.requested.v1',
    });
  });

  it('breaks nothing a consumer of the released schemas relies on', () => {
    expect(releaseCompatProblems(release.version, release.schemas, current)).toEqual([]);
  });

  it.each<[string, (s: Obj) => void, string]>([
    [
      'a property removed',
      (s) => delete at(s, '/properties').deadline,
      '/properties/deadline: property removed',
    ],
    [
      'a new required property',
      (s) => {
        at(s, '/properties').priority = { type: 'integer' };
        (s.required as string[]).push('priority');
      },
      '/: new required property "priority"',
    ],
    [
      'an enum value removed',
      (s) => (at(s, '/properties/principal/properties/kind').enum = ['user', 'service']),
      '/properties/principal/properties/kind: value "api_key" removed',
    ],
    [
      'a bound tightened',
      (s) => (at(s, '/properties/callId').maxLength = 64),
      '/properties/callId: maxLength tightened from 128 to 64',
    ],
    [
      'additionalProperties tightened',
      (s) => (s.additionalProperties = false),
      '/: additionalProperties tightened',
    ],
  ])('catches %s in a mutated copy of a real schema', (_rule, mutate, expected) => {
    const problems = releaseCompatProblems(release.version, release.schemas, mutated(mutate));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(
      `dev.toolbus.tool_call.requested.v1 changed incompatibly since ${release.version}: ${expected}`,
    );
    expect(problems[0]).toContain('declare tool_call.requested v2 beside v1 instead');
  });

  it('passes compatible changes to a real schema: a new optional property, a new enum value, docs', () => {
    const changed = mutated((s) => {
      at(s, '/properties').priority = { type: 'integer' };
      (at(s, '/properties/principal/properties/kind').enum as string[]).push('robot');
      s.description = 'reworded';
    });
    expect(releaseCompatProblems(release.version, release.schemas, changed)).toEqual([]);
  });

  // The same change made in zod, as a developer would: in place it fails, as a v2 it passes.
  const withPriority = ToolCallRequested.extend({ priority: z.number().int() });
  const others = AllMessageKinds.filter((k) => k !== Messages.toolCallRequested);

  it('fails a required field added to the current v1 in zod', () => {
    const inPlace = messageKind('tool_call.requested', 1, withPriority);
    const problems = releaseCompatProblems(
      release.version,
      release.schemas,
      exportJsonSchemas([...others, inPlace]) as Record<string, JsonSchema>,
    );
    expect(problems).toEqual([expect.stringContaining('new required property "priority"')]);
  });

  it('passes the same field declared as v2 beside v1, exported to its own file', () => {
    const v2 = messageKind('tool_call.requested', 2, withPriority, {
      upcast: { from: Messages.toolCallRequested, lift: (v1) => ({ ...v1, priority: 0 }) },
    });
    const exported = exportJsonSchemas([...AllMessageKinds, v2]) as Record<string, JsonSchema>;
    expect(exported['tool_call.requested.v2.schema.json']).toMatchObject({
      'x-cloudevents-type': 'dev.toolbus.tool_call.requested.v2',
    });
    expect(releaseCompatProblems(release.version, release.schemas, exported)).toEqual([]);
  });
});
