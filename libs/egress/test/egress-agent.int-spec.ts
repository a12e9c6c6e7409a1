import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildConnector } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  egressAgent,
  egressFetch,
  egressRefusalOf,
  type EgressRefusedError,
  type LookupAll,
  type ResolvedAddress,
} from '../src/index.js';

/** A real HTTP server on 127.0.0.1 that counts the connections it accepted. */
interface CountingServer {
  port: number;
  connections: number;
  hosts: string[];
  close(): Promise<void>;
}

async function countingServer(): Promise<CountingServer> {
  const state = { connections: 0, hosts: [] as string[] };
  const server: Server = createServer((request, response) => {
    state.hosts.push(request.headers.host ?? '');
    response.setHeader('content-type', 'text/plain');
    response.end('inside');
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return state.connections;
    },
    hosts: state.hosts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A lookup that answers from a script, one answer per call, and counts the calls. */
function scriptedLookup(...answers: ResolvedAddress[][]): LookupAll & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string) => {
    calls.push(hostname);
    return answers[Math.min(calls.length, answers.length) - 1] ?? [];
  };
  return Object.assign(lookup, { calls });
}

const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });

/** The refusal a fetch failed with; fails the test when it did not fail that way. */
async function refusal(promise: Promise<unknown>): Promise<EgressRefusedError> {
  const error = await promise.then(
    () => new Error('expected the request to be refused'),
    (e: unknown) => e,
  );
  const found = egressRefusalOf(error);
  if (!found) throw error;
  return found;
}

describe('the egress agent against real sockets', () => {
  let server: CountingServer;
  const agents: Array<{ close(): Promise<void> }> = [];
  const track = <A extends { close(): Promise<void> }>(agent: A): A => {
    agents.push(agent);
    return agent;
  };

  beforeAll(async () => {
    server = await countingServer();
  });
  beforeEach(() => {
    server.hosts.length = 0;
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await server.close();
  });

  it('refuses a literal loopback address before connecting, naming it and its class', async () => {
    const before = server.connections;
    const fetch = egressFetch(track(egressAgent({ allow: [] })));
    const error = await refusal(fetch(`http://127.0.0.1:${server.port}/`));
    expect(error.message).toBe(
      'egress to 127.0.0.1 (loopback) is not allowed; EGRESS_ALLOW lists the exceptions',
    );
    expect(error).toMatchObject({
      host: '127.0.0.1',
      address: '127.0.0.1',
      addressClass: 'loopback',
    });
    expect(server.connections).toBe(before);
  });

  it('refuses the metadata endpoint and IPv6 and IPv4-mapped loopback literals', async () => {
    const fetch = egressFetch(track(egressAgent({ allow: [] })));
    expect((await refusal(fetch('http://169.254.169.254/latest/meta-data/'))).message).toBe(
      'egress to 169.254.169.254 (link-local) is not allowed; EGRESS_ALLOW lists the exceptions',
    );
    expect((await refusal(fetch(`http://[::1]:${server.port}/`))).addressClass).toBe('loopback');
    // The URL parser writes it ::ffff:7f00:1; it is still 127.0.0.1.
    expect((await refusal(fetch(`http://[::ffff:127.0.0.1]:${server.port}/`))).addressClass).toBe(
      'loopback',
    );
    // Other spellings of 127.0.0.1 are normalised by the URL parser before the check.
    expect((await refusal(fetch(`http://2130706433:${server.port}/`))).address).toBe('127.0.0.1');
  });

  it('refuses a DNS name that resolves to loopback, without connecting', async () => {
    const before = server.connections;
    const lookup = scriptedLookup([v4('127.0.0.1')]);
    const fetch = egressFetch(track(egressAgent({ allow: [], lookup })));
    const error = await refusal(fetch(`http://internal.attacker.test:${server.port}/`));
    expect(error.message).toBe(
      'egress to internal.attacker.test (127.0.0.1, loopback) is not allowed; EGRESS_ALLOW lists the exceptions',
    );
    expect(lookup.calls).toEqual(['internal.attacker.test']);
    expect(server.connections).toBe(before);
  });

  it('refuses a name when any of its addresses is inside, even after a public one', async () => {
    const lookup = scriptedLookup([v4('93.184.216.34'), v4('10.0.0.7')]);
    const fetch = egressFetch(track(egressAgent({ allow: [], lookup })));
    const error = await refusal(fetch('http://mixed.example.test/'));
    expect(error).toMatchObject({ address: '10.0.0.7', addressClass: 'private' });
  });

  it('reaches an allow-listed address, by name and literally, with the Host of the URL', async () => {
    const lookup = scriptedLookup([v4('127.0.0.1')]);
    const fetch = egressFetch(track(egressAgent({ allow: ['127.0.0.1/32'], lookup })));
    const byName = await fetch(`http://sidecar.test:${server.port}/x`);
    expect(await byName.text()).toBe('inside');
    const literal = await fetch(`http://127.0.0.1:${server.port}/y`);
    expect(literal.status).toBe(200);
    await literal.arrayBuffer();
    expect(server.hosts).toEqual([`sidecar.test:${server.port}`, `127.0.0.1:${server.port}`]);
    // 127.0.0.2 is loopback too, but not listed.
    expect((await refusal(fetch(`http://127.0.0.2:${server.port}/`))).address).toBe('127.0.0.2');
  });

  it('resolves once and connects to the address it checked: a rebinding answer is never used', async () => {
    // First answer public, second loopback: a resolver turning between check and connect.
    const lookup = scriptedLookup([v4('93.184.216.34')], [v4('127.0.0.1')]);
    const dialled: string[] = [];
    const real = buildConnector({});
    // Records the address it is asked to dial, then reaches the test server instead (there is
    // no internet here): what matters is which address the guard handed on.
    const recording: buildConnector.connector = (options, callback) => {
      dialled.push(options.hostname);
      real({ ...options, hostname: '127.0.0.1', port: String(server.port) }, callback);
    };
    const fetch = egressFetch(track(egressAgent({ allow: [], lookup, connector: recording })));
    const response = await fetch('http://rebind.attacker.test/');
    expect(await response.text()).toBe('inside');
    expect(lookup.calls).toEqual(['rebind.attacker.test']);
    expect(dialled).toEqual(['93.184.216.34']);
  });

  it('tries the next checked address when one cannot be reached', async () => {
    // A port nothing listens on, taken and released.
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const dialled: string[] = [];
    const real = buildConnector({});
    const connector: buildConnector.connector = (options, callback) => {
      dialled.push(options.hostname);
      const port = options.hostname === '93.184.216.34' ? closed : server.port;
      real({ ...options, hostname: '127.0.0.1', port: String(port) }, callback);
    };
    const lookup = scriptedLookup([v4('93.184.216.34'), v4('93.184.216.35')]);
    const fetch = egressFetch(track(egressAgent({ allow: [], lookup, connector })));
    expect((await fetch('http://two.example.test/')).status).toBe(200);
    expect(dialled).toEqual(['93.184.216.34', '93.184.216.35']);
  });
});
