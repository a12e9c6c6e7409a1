import { describe, expect, it } from 'vitest';
import { diff, record } from '../test/records.js';
import {
  formatBytes,
  importSummary,
  importTable,
  problemLines,
  statusLine,
  table,
  toolBlock,
  toolsTable,
  versionsTable,
  warningText,
} from './format.js';

describe('tables', () => {
  it('lines columns up two spaces apart under upper-case headers, without borders', () => {
    expect(
      table(
        ['NAME', 'VERSION'],
        [
          ['get_customer', '1.0.0'],
          ['x', '10.2.3'],
        ],
      ),
    ).toBe(['NAME          VERSION', 'get_customer  1.0.0', 'x             10.2.3'].join('\n'));
  });

  it('cuts only the last column, with an ellipsis, so every line fits the terminal', () => {
    const title = 'Returns the credit limit of a customer account in its own currency';
    const out = toolsTable([record({ title })], 80);
    const lines = out.split('\n');
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80);
    expect(lines[1]).toMatch(
      /^get_customer {2}1\.0\.0 {4}approved {2}team-crm {2}eu {6}crm:crm_read {2}Returns the .*…$/,
    );
  });

  it('keeps the last column readable on a very narrow terminal rather than cutting it to nothing', () => {
    const out = toolsTable([record({ title: 'Get a customer by its id, with contacts' })], 20);
    expect(out.split('\n')[1]).toContain('Get a custo…');
  });

  it('cuts nothing when the output is not a terminal (pipes get whole lines)', () => {
    const title = 'x'.repeat(200);
    expect(toolsTable([record({ title })])).toContain(title);
  });

  it('shows a dash for a tool without scopes and joins several with commas', () => {
    const rows = toolsTable([
      record({ name: 'a_tool', scopes: [] }),
      record({ name: 'b_tool', scopes: ['crm:read', 'crm:write'] }),
    ]).split('\n');
    expect(rows[1]).toMatch(/eu {6}- {2}/);
    expect(rows[2]).toContain('crm:read,crm:write');
  });

  it('keeps a cell on one line when a title holds a newline', () => {
    expect(toolsTable([record({ title: 'two\nlines' })]).split('\n')).toHaveLength(2);
  });

  it('lists versions with who wrote and who approved each', () => {
    const out = versionsTable([
      record({ version: '1.1.0', status: 'draft', approvedBy: null, approvedAt: null }),
      record({ status: 'deprecated', statusReason: 'use 1.1.0' }),
    ]);
    expect(out.split('\n')).toEqual([
      'VERSION  STATUS      AUTHOR  APPROVED BY  CREATED     REASON',
      '1.1.0    draft       alice   -            2026-11-20',
      '1.0.0    deprecated  alice   bob          2026-11-20  use 1.1.0',
    ]);
  });
});

describe('tools get block', () => {
  it('shows governance, limits and transport, then the input schema as YAML', () => {
    const out = toolBlock(record());
    expect(out).toContain('name:        get_customer');
    expect(out).toContain('status:      approved');
    expect(out).toContain('author:      alice (2026-11-20T10:00:00.000Z)');
    expect(out).toContain('approved by: bob (2026-11-21T09:30:00.000Z)');
    expect(out).toContain('scopes:      crm:crm_read');
    expect(out).toContain('transport:   kafka tool_requests.http-executor (async)');
    expect(out).toContain('timeout:     10000 ms');
    expect(out).toContain('rate limit:  600/min');
    expect(out).toContain('source:      OpenAPI import "crm", GET /customers/{customerId}');
    expect(out).toContain('description:\n  Returns one customer by id.');
    expect(out).toContain(
      [
        'input schema:',
        '  type: object',
        '  properties:',
        '    customer_id:',
        '      type: string',
        '      format: uuid',
        '  required:',
        '    - customer_id',
        '  additionalProperties: false',
      ].join('\n'),
    );
  });

  it('says so when a version is unapproved, unlimited, or carries a status reason', () => {
    const out = toolBlock(
      record({
        status: 'deprecated',
        statusReason: 'use 2.0.0',
        approvedBy: null,
        approvedAt: null,
        rateLimitPerMinute: undefined,
        sync: true,
        transport: { kind: 'http', url: 'https://crm.internal/tools' },
      }),
    );
    expect(out).toContain('status:      deprecated (use 2.0.0)');
    expect(out).toContain('approved by: -');
    expect(out).toContain('rate limit:  none');
    expect(out).toContain('transport:   http https://crm.internal/tools (sync)');
  });
});

describe('import diff', () => {
  it('tabulates added, changed and removed tools; unchanged ones only count', () => {
    const out = importTable(diff())!;
    expect(out.split('\n')).toEqual([
      'CHANGE   NAME             VERSION  OPERATION',
      'added    list_customers   1.0.0    GET /customers',
      'added    create_customer  1.0.0    POST /customers',
      'added    get_deals        1.0.0    GET /deals',
      'changed  get_customer     1.1.0    GET /customers/{customerId}',
      'removed  delete_note      -        DELETE /customers/{customerId}/notes/{noteId}',
    ]);
    expect(importTable(diff({ added: [], changed: [], removed: [] }))).toBeUndefined();
  });

  it('sums up and says how to approve the drafts', () => {
    expect(importSummary(diff())).toBe(
      '3 added, 1 changed, 1 removed, 5 unchanged (drafts await approval: toolbus tools approve <name>@<version>)',
    );
    expect(importSummary(diff({ added: [], changed: [] }))).toBe(
      '0 added, 0 changed, 1 removed, 5 unchanged',
    );
    expect(importSummary(diff({ dryRun: true }))).toBe(
      'dry run, nothing written: 3 added, 1 changed, 1 removed, 5 unchanged',
    );
  });
});

describe('messages', () => {
  it('renders a problem as its detail and one indented line per issue', () => {
    expect(
      problemLines('invalid import request', [
        { pointer: '/region', message: 'must be a region code such as eu' },
        { pointer: '/document/paths', message: 'required property "paths" is missing' },
      ]),
    ).toEqual([
      'error: invalid import request',
      '  /region: must be a region code such as eu',
      '  /document/paths: required property "paths" is missing',
    ]);
  });

  it('reads the text out of a Warning header', () => {
    expect(warningText('299 toolbus-registry "get_customer@1.0.0 is deprecated: use 2.0.0"')).toBe(
      'get_customer@1.0.0 is deprecated: use 2.0.0',
    );
    expect(warningText('299 - "say \\"hi\\""')).toBe('say "hi"');
    expect(warningText('something else')).toBe('something else');
  });

  it('prints the new status, with the approver after an approval', () => {
    expect(statusLine(record())).toBe('get_customer@1.0.0 is now approved by bob');
    expect(statusLine(record({ status: 'retired', statusReason: 'replaced' }))).toBe(
      'get_customer@1.0.0 is now retired: replaced',
    );
  });

  it('formats sizes in SI units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(9_717)).toBe('9.7 kB');
    expect(formatBytes(15_749)).toBe('16 kB');
    expect(formatBytes(2_100_000)).toBe('2.1 MB');
  });
});
