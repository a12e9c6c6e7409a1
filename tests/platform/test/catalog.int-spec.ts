import { Messages, RegistryPaths, type AskCompleted, type ImportDiff } from '@toolbus/contracts';
import { issueToken } from '@toolbus/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPlatform } from './platform.js';

/** Few enough that choosing them out of 1,000 is a real choice. */
const MAX_OFFERED = 8;

/** GitHub's REST API in its shape: an area, then what is done there (`repos/list-for-org`). */
const AREAS = [
  'repos',
  'issues',
  'pulls',
  'actions',
  'orgs',
  'users',
  'teams',
  'gists',
  'projects',
  'packages',
  'checks',
  'codespaces',
  'dependabot',
  'secret-scanning',
  'code-scanning',
  'billing',
  'migrations',
  'reactions',
  'activity',
  'apps',
  'git',
  'interactions',
  'security-advisories',
  'copilot',
  'oidc',
  'deployments',
  'environments',
  'webhooks',
  'releases',
  'branches',
  'commits',
  'collaborators',
  'invitations',
  'labels',
  'milestones',
  'comments',
  'reviews',
  'runners',
  'artifacts',
  'caches',
  'variables',
  'secrets',
  'rulesets',
  'pages',
  'traffic',
  'statuses',
  'tags',
  'forks',
  'stargazers',
  'subscriptions',
];
/** What an area's operations act on, in the words of GitHub's own summaries. */
const NOUNS: Record<string, string> = {
  repos: 'repositories',
  pulls: 'pull requests',
  orgs: 'organizations',
  checks: 'check runs',
  'secret-scanning': 'secret scanning alerts',
  'code-scanning': 'code scanning alerts',
  git: 'git references',
};
const VERBS: Array<[verb: string, method: 'get' | 'post' | 'patch' | 'delete', what: string]> = [
  ['list-for-org', 'get', 'Lists the {area} of an organization'],
  ['list-for-repo', 'get', 'Lists the {area} of a repository'],
  ['list-for-user', 'get', 'Lists the {area} of a user'],
  ['list-for-authenticated-user', 'get', 'Lists the {area} of the signed-in user'],
  ['get', 'get', 'Gets one of the {area} by its id'],
  ['get-for-org', 'get', 'Gets one of the {area} of an organization'],
  ['list-events', 'get', 'Lists the events of the {area}'],
  ['get-settings', 'get', 'Gets the settings of the {area}'],
  ['list-history', 'get', 'Lists the history of the {area}'],
  ['get-statistics', 'get', 'Gets statistics about the {area}'],
  ['create', 'post', 'Creates one of the {area}'],
  ['create-for-org', 'post', 'Creates one of the {area} in an organization'],
  ['update', 'patch', 'Updates one of the {area}'],
  ['update-settings', 'patch', 'Updates the settings of the {area}'],
  ['delete', 'delete', 'Deletes one of the {area}'],
  ['delete-for-org', 'delete', 'Deletes one of the {area} of an organization'],
  ['lock', 'post', 'Locks one of the {area}'],
  ['unlock', 'delete', 'Unlocks one of the {area}'],
  ['transfer', 'post', 'Transfers one of the {area} to another owner'],
  ['archive', 'post', 'Archives one of the {area}'],
];

/**
 * An OpenAPI document of 1,000 operations as an imported GitHub API has them: reads need the
 * OAuth scope `github:read`, everything else `github:write`.
 */
function githubApi(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const area of AREAS)
    for (const [verb, method, what] of VERBS) {
      const path = `/${area}/${verb}/{owner}`;
      const words = NOUNS[area] ?? area.replace(/-/g, ' ');
      paths[path] = {
        [method]: {
          operationId: `${area}/${verb}`,
          summary: what.replace('{area}', words),
          description: `${what.replace('{area}', words)}. Part of the GitHub ${words} API.`,
          tags: [area],
          security: [{ oauth: [method === 'get' ? 'github:read' : 'github:write'] }],
          parameters: [
            {
              name: 'owner',
              in: 'path',
              required: true,
              description: 'The account owner (organization or user)',
              schema: { type: 'string', maxLength: 100 },
            },
          ],
          responses: {
            '200': {
              description: 'OK',
              content: { 'application/json': { schema: { type: 'object' } } },
            },
          },
        },
      };
    }
  return {
    openapi: '3.1.0',
    info: { title: 'GitHub REST API', version: '1.1.4' },
    servers: [{ url: 'https://api.github.com' }],
    components: {
      securitySchemes: {
        oauth: {
          type: 'oauth2',
          flows: {
            authorizationCode: {
              authorizationUrl: 'https://github.com/login/oauth/authorize',
              tokenUrl: 'https://github.com/login/oauth/access_token',
              scopes: { 'github:read': 'Read', 'github:write': 'Write' },
            },
          },
        },
      },
    },
    paths,
  };
}

/**
 * A catalog of 1,000 approved tools beside the CRM's (a GitHub API imported through the
 * registry's OpenAPI import, approved by a reviewer): the model is offered only the few most
 * relevant to the question and `find_tools`, finds another within the caller's policy, and
 * calls it in the same ask.
 */
describe('a large catalog', () => {
  let platform: TestPlatform;
  const principal = () => platform.principal({ scopes: ['crm:read', 'github:read'] });

  beforeAll(async () => {
    platform = await TestPlatform.start({
      // Three steps with the found tools' schemas take more than the default cap of 2,000.
      orchestratorEnv: { MAX_OFFERED_TOOLS: String(MAX_OFFERED), ASK_TOKEN_CAP: '20000' },
    });
    const author = await issueToken({
      sub: 'importer',
      scopes: ['registry:write', 'registry:read'],
      teams: ['developer-tools'],
    });
    const res = await fetch(`${platform.registry.url}/v1/imports/openapi`, {
      method: 'POST',
      headers: { authorization: `Bearer ${author}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        source: 'github',
        document: githubApi(),
        owner: 'developer-tools',
        region: 'eu',
      }),
    });
    const diff = (await res.json()) as ImportDiff;
    expect(res.status, JSON.stringify(diff).slice(0, 2000)).toBe(200);
    expect(diff.added).toHaveLength(1_000);
    // Four eyes: another person approves each draft; twenty at a time.
    const reviewer = await issueToken({
      sub: 'reviewer',
      scopes: ['registry:approve', 'registry:read'],
    });
    const drafts = [...diff.added];
    const approveNext = async (): Promise<void> => {
      for (let draft = drafts.pop(); draft; draft = drafts.pop()) {
        const approved = await fetch(
          `${platform.registry.url}${RegistryPaths.lifecycle(draft.name, draft.version!, 'approve')}`,
          { method: 'POST', headers: { authorization: `Bearer ${reviewer}` } },
        );
        if (approved.status !== 200)
          throw new Error(`approving ${draft.name}: ${approved.status} ${await approved.text()}`);
      }
    };
    await Promise.all(Array.from({ length: 20 }, approveNext));
    // Every approval reaches the orchestrator's catalog as a signed change.
    await platform.untilOffered(['repos_list_for_org', 'issues_create', 'find_customer'], {
      ...principal(),
      scopes: ['crm:read', 'github:read', 'github:write'],
    });
  }, 300_000);

  afterAll(async () => {
    await platform?.close();
  });

  it('lists all 1,000 tools to a client that brings its own model', async () => {
    const listed = await platform.listTools(principal());
    // Reads only: the writes need github:write.
    expect(listed.filter((n) => !['find_customer', 'get_credit_limit'].includes(n))).toHaveLength(
      AREAS.length * VERBS.filter(([, method]) => method === 'get').length,
    );
    const all = await platform.listTools({
      ...principal(),
      scopes: ['crm:read', 'github:read', 'github:write'],
    });
    expect(all.length).toBe(1_000 + 2);
  });

  it('offers the model the few most relevant tools and find_tools, which finds one more to call', async () => {
    const found: string[][] = [];
    platform.anthropic.script([
      {
        when: (req) => req.toolResults.length === 0,
        reply: {
          toolCalls: [
            { name: 'find_tools', input: { query: 'find a customer account by company name' } },
            { name: 'find_tools', input: { query: 'create a new issue', limit: 20 } },
          ],
        },
      },
      {
        when: (req) => req.toolResults.some((r) => r.toolName === 'find_tools'),
        reply: (req) => {
          for (const r of req.toolResults) {
            const body = JSON.parse(r.content) as { found: Array<{ name: string }> };
            found.push(body.found.map((t) => t.name));
          }
          return { toolCalls: [{ name: 'find_customer', input: { query: 'acme' } }] };
        },
      },
      {
        when: (req) => req.toolResults.some((r) => r.toolName === 'find_customer'),
        reply: (req) => ({ text: `The organization belongs to ${req.toolResults[0]!.content}` }),
      },
    ]);
    const before = platform.anthropic.requests.length;
    const reply = await platform.ask(
      await platform.askMessage('List the repositories of the acme organization on GitHub', {
        principal: principal(),
      }),
    );
    expect(reply.event.type, JSON.stringify(reply.value)).toBe(Messages.askCompleted.type);
    const completed = reply.value as AskCompleted;
    const requests = platform.anthropic.requests.slice(before);
    const toolsOf = (i: number) =>
      (requests[i]!.body as { tools: Array<{ name: string }> }).tools.map((t) => t.name);

    // The first step: at most MAX_OFFERED_TOOLS of 1,000 usable, the relevant one among them,
    // and find_tools; not the CRM's customer search, which the question does not need.
    const first = toolsOf(0);
    expect(first.length).toBeLessThanOrEqual(MAX_OFFERED + 1);
    expect(first).toContain('find_tools');
    expect(first, first.join(', ')).toContain('repos_list_for_org');
    expect(first).not.toContain('find_customer');

    // find_tools found the customer search, and nothing the caller's scopes do not cover: the
    // issue tools it found are reads, not issues_create (github:write).
    expect(found).toHaveLength(2);
    const [customers, issues] = found;
    expect(customers).toContain('find_customer');
    expect(issues!.length).toBeGreaterThan(0);
    expect(issues!.some((n) => n.startsWith('issues_'))).toBe(true);
    expect(issues).not.toContain('issues_create');
    expect(issues).not.toContain('issues_update');

    // From the next step on it is offered, and the call runs on the CRM.
    expect(toolsOf(1)).toContain('find_customer');
    // The first step's tools, what was found, and find_tools: nothing else joined.
    expect(new Set(toolsOf(1))).toEqual(new Set([...first, ...customers!, ...issues!]));
    // (find_tools is the orchestrator's own, not a tool call of the catalog.)
    expect(completed.toolCalls.map((c) => [c.tool, c.outcome])).toEqual([
      ['find_customer', 'succeeded'],
    ]);
    expect(completed.answer).toMatch(/Acme Corp/);
  });
});
