import type {
  AuditEntry,
  ChainVerdict,
  FieldIssue,
  ImportDiff,
  ToolVersionRecord,
} from '@toolbus/contracts';
import Table from 'cli-table3';
import { stringify } from 'yaml';

const NO_BORDERS = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};
const GAP = 2;
const MIN_LAST_COLUMN = 12;

/**
 * A plain table like `kubectl get`: upper-case headers, columns two spaces apart, no borders or
 * colours, so it reads well and still pipes into grep, cut and awk. With `width`, the last
 * column is cut (with "…") to make each line fit; without it (not a terminal) nothing is cut.
 */
export function table(head: string[], rows: string[][], width?: number): string {
  const colWidths: Array<number | null> = head.map(() => null);
  if (width !== undefined && head.length > 1) {
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const fixed = widths.slice(0, -1).reduce((sum, w) => sum + w + GAP, 0);
    const last = widths[widths.length - 1]!;
    if (fixed + last > width) colWidths[head.length - 1] = Math.max(MIN_LAST_COLUMN, width - fixed);
  }
  const t = new Table({
    head,
    chars: NO_BORDERS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    colWidths,
    wordWrap: false,
  });
  t.push(...rows.map((r) => r.map((cell) => oneLine(cell))));
  return t
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

/** `tools list`: one line per tool version. */
export function toolsTable(items: ToolVersionRecord[], width?: number): string {
  return table(
    ['NAME', 'VERSION', 'STATUS', 'OWNER', 'REGION', 'SCOPES', 'TITLE'],
    items.map((t) => [
      t.name,
      t.version,
      t.status,
      t.owner,
      t.region,
      t.scopes.join(',') || '-',
      t.title,
    ]),
    width,
  );
}

/** `tools versions`: the review history of one tool. */
export function versionsTable(items: ToolVersionRecord[], width?: number): string {
  return table(
    ['VERSION', 'STATUS', 'AUTHOR', 'APPROVED BY', 'CREATED', 'REASON'],
    items.map((t) => [
      t.version,
      t.status,
      t.author,
      t.approvedBy ?? '-',
      day(t.createdAt),
      t.statusReason ?? '',
    ]),
    width,
  );
}

/** `audit list`: who called what, when, with which decision; newest first. */
export function auditTable(items: AuditEntry[], width?: number): string {
  return table(
    ['AT', 'TENANT', 'WHO', 'ACTION', 'WHAT', 'DECISION', 'OUTCOME', 'REASON'],
    items.map((e) => [
      e.at.slice(0, 19).replace('T', ' '),
      e.tenant,
      e.actor.subject,
      e.action,
      e.resource.kind === 'tool' ? e.resource.id : `${e.resource.kind} ${e.resource.id}`,
      e.decision,
      e.outcome,
      e.undecryptable ? `(sealed: ${e.undecryptable})` : (e.reason ?? ''),
    ]),
    width,
  );
}

/** `audit verify` of a broken chain: the first finding, then every one. */
export function findingLines(verdict: ChainVerdict): string[] {
  const first = verdict.first;
  if (!first) return [];
  return [
    `audit chain BROKEN at row ${first.sequence} (${first.kind}): ${first.detail}`,
    `${verdict.findings.length} finding(s) in ${verdict.rows} rows:`,
    ...verdict.findings.map((f) => `  row ${f.sequence}  ${f.kind.padEnd(9)}  ${f.detail}`),
  ];
}

/** `tools get`: every field a reviewer or a caller asks about, then the input schema as YAML. */
export function toolBlock(t: ToolVersionRecord): string {
  const fields: Array<[string, string]> = [
    ['name', t.name],
    ['version', t.version],
    ['status', t.statusReason ? `${t.status} (${t.statusReason})` : t.status],
    ['title', t.title],
    ['author', `${t.author} (${t.createdAt})`],
    ['approved by', t.approvedBy ? `${t.approvedBy} (${t.approvedAt ?? '?'})` : '-'],
    ['owner', t.owner],
    ['region', t.region],
    ['scopes', t.scopes.join(', ') || '-'],
    ['transport', transport(t)],
    ['timeout', `${t.timeoutMs} ms`],
    ['rate limit', t.rateLimitPerMinute ? `${t.rateLimitPerMinute}/min` : 'none'],
    ['cache ttl', t.cacheTtlSeconds ? `${t.cacheTtlSeconds} s` : 'none'],
    ['tags', t.tags.join(', ') || '-'],
    ['source', source(t)],
  ];
  if (t.binding?.kind === 'http')
    fields.push(['calls', `${t.binding.method} ${t.binding.baseUrl}${t.binding.path}`]);
  if (t.binding?.kind === 'mcp')
    fields.push(['calls', `MCP tool ${t.binding.tool} of ${t.binding.server}`]);
  const pad = Math.max(...fields.map(([k]) => k.length)) + 2;
  const lines = fields.map(([k, v]) => `${`${k}:`.padEnd(pad)}${oneLine(v)}`);
  lines.push('description:', indent(t.description.trimEnd()));
  lines.push('input schema:', indent(stringify(t.inputSchema).trimEnd()));
  return lines.join('\n');
}

/** `tools import-openapi`: what changed, one row per added, changed or removed tool. */
export function importTable(diff: ImportDiff, width?: number): string | undefined {
  const rows = (['added', 'changed', 'removed'] as const).flatMap((change) =>
    diff[change].map((t) => [change, t.name, t.version ?? '-', t.operation]),
  );
  if (rows.length === 0) return undefined;
  return table(['CHANGE', 'NAME', 'VERSION', 'OPERATION'], rows, width);
}

/** "3 added, 1 changed, 1 removed, 5 unchanged (drafts await approval: …)". */
export function importSummary(diff: ImportDiff): string {
  const counts = `${diff.added.length} added, ${diff.changed.length} changed, ${diff.removed.length} removed, ${diff.unchanged.length} unchanged`;
  if (diff.dryRun) return `dry run, nothing written: ${counts}`;
  const drafts = [...diff.added, ...diff.changed].some((t) => t.version !== null);
  return drafts
    ? `${counts} (drafts await approval: toolbus tools approve <name>@<version>)`
    : counts;
}

/** The line a lifecycle command prints. */
export function statusLine(t: ToolVersionRecord): string {
  const by = t.status === 'approved' && t.approvedBy ? ` by ${t.approvedBy}` : '';
  const why = t.statusReason ? `: ${t.statusReason}` : '';
  return `${t.name}@${t.version} is now ${t.status}${by}${why}`;
}

/** stderr lines of a refusal: `error: <detail>` then `  <pointer>: <message>` per issue. */
export function problemLines(detail: string, issues: readonly FieldIssue[] = []): string[] {
  return [`error: ${detail}`, ...issues.map((i) => `  ${i.pointer}: ${i.message}`)];
}

/**
 * The text of an RFC 9110 Warning header (`299 toolbus-registry "x is deprecated"`), or the
 * header itself when it is not in that form.
 */
export function warningText(header: string): string {
  const match = /^\s*\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/.exec(header);
  return match ? match[1]!.replace(/\\(.)/g, '$1') : header.trim();
}

/** "512 B", "9.7 kB", "16 kB", "2.1 MB" (SI units, as file managers show). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const [value, unit] = bytes < 1_000_000 ? [bytes / 1000, 'kB'] : [bytes / 1_000_000, 'MB'];
  return `${value.toFixed(value < 10 ? 1 : 0)} ${unit}`;
}

function transport(t: ToolVersionRecord): string {
  const where =
    t.transport.kind === 'kafka' ? `kafka ${t.transport.topic}` : `http ${t.transport.url}`;
  return `${where} (${t.sync ? 'sync' : 'async'})`;
}

function source(t: ToolVersionRecord): string {
  switch (t.source.kind) {
    case 'api':
      return 'registered through the API';
    case 'openapi':
      return `OpenAPI import "${t.source.import}", ${t.source.operation}`;
    case 'mcp':
      return `MCP upstream "${t.source.upstream}", tool ${t.source.tool}`;
  }
}

function day(timestamp: string): string {
  return timestamp.slice(0, 10);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => (line ? `  ${line}` : line))
    .join('\n');
}

/** Table cells and block values stay on one line; newlines and tabs become spaces. */
function oneLine(text: string): string {
  return text.replace(/\s*[\r\n\t]+\s*/g, ' ');
}
