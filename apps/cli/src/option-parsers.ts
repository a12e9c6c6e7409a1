import { Region, ToolDefinition, ToolName, ToolStatus } from '@toolbus/contracts';
import { InvalidArgumentError } from 'commander';
import { UsageError } from './cli-errors.js';

/** `name` or `name@version`, checked against the contract's rules for both. */
export function parseRef(
  ref: string,
  versionRequired: boolean,
): { name: string; version?: string } {
  const usage = versionRequired
    ? '<name>@<version>, e.g. get_customer@1.0.0'
    : '<name> or <name>@<version>';
  const at = ref.indexOf('@');
  const name = at < 0 ? ref : ref.slice(0, at);
  const version = at < 0 ? undefined : ref.slice(at + 1);
  const bad = (why: string) =>
    new UsageError(`"${ref}" is not a tool version: ${why}; expected ${usage}`);
  if (versionRequired && version === undefined) throw bad('the version is missing');
  const parsedName = ToolName.safeParse(name);
  if (!parsedName.success) throw bad(`the name ${parsedName.error.issues[0]?.message}`);
  if (version !== undefined) {
    const parsedVersion = ToolDefinition.shape.version.safeParse(version);
    if (!parsedVersion.success) throw bad(`the version ${parsedVersion.error.issues[0]?.message}`);
  }
  return version === undefined ? { name } : { name, version };
}

/** A repeatable option's values, in order. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

/** `draft,approved`: each one a status of the contract. */
export function statuses(value: string): ToolStatus[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0) throw new InvalidArgumentError(`use ${ToolStatus.options.join(', ')}`);
  for (const s of list)
    if (!ToolStatus.safeParse(s).success)
      throw new InvalidArgumentError(
        `"${s}" is not a status; use ${ToolStatus.options.join(', ')}`,
      );
  return list as ToolStatus[];
}

export function region(value: string): string {
  const parsed = Region.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? 'invalid');
  return value;
}
