import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { addressClass, inCidr, parseCidr, type AddressClass, type Cidr } from './address-class.js';

/** One address a name resolves to, as `dns.lookup(name, { all: true })` gives it. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to all its addresses; `dns.lookup` with `all: true` by default. */
export type LookupAll = (hostname: string) => Promise<ResolvedAddress[]>;

/** A connection refused before it was made: the host resolves to an address inside. */
export class EgressRefusedError extends Error {
  override readonly name = 'EgressRefusedError';
  /** Stable, for callers that classify errors by code (as undici's own errors are). */
  readonly code = 'EGRESS_REFUSED';

  constructor(
    /** The host as the URL named it. */
    readonly host: string,
    /** The resolved address that was refused. */
    readonly address: string,
    readonly addressClass: AddressClass,
  ) {
    const where = host === address ? `(${addressClass})` : `(${address}, ${addressClass})`;
    super(`egress to ${host} ${where} is not allowed; EGRESS_ALLOW lists the exceptions`);
  }
}

/** The first {@link EgressRefusedError} in an error's `cause` chain (fetch wraps it in a TypeError). */
export function egressRefusalOf(error: unknown): EgressRefusedError | undefined {
  for (let e = error, depth = 0; e && depth < 8; depth++) {
    if (e instanceof EgressRefusedError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export interface EgressGuardOptions {
  /** CIDR blocks that may be reached although they are inside (EGRESS_ALLOW). */
  allow: readonly (string | Cidr)[];
  /** How names are resolved; `dns.lookup` (all addresses) by default. Tests inject one. */
  lookup?: LookupAll;
  /** Options of undici's connector (TLS settings, timeout...). */
  connect?: buildConnector.BuildOptions;
  /**
   * The connector that opens the socket to the checked address; undici's own (built from
   * `connect`) by default. Tests inject one that records the address it is given.
   */
  connector?: buildConnector.connector;
}

const defaultLookup: LookupAll = (hostname) =>
  dnsLookup(hostname, { all: true, order: 'verbatim' });

/** Connection errors after which the next address of the host is tried. */
const NEXT_ADDRESS = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * Checks one address against the deny rules and the allow-list; the refusal, or undefined
 * when it may be reached.
 */
export function egressRefusal(
  host: string,
  address: string,
  allow: readonly Cidr[],
): EgressRefusedError | undefined {
  const inside = addressClass(address);
  if (!inside || allow.some((cidr) => inCidr(address, cidr))) return undefined;
  return new EgressRefusedError(host, address, inside);
}

/**
 * An undici connector that resolves the host once, refuses the connection if any of its
 * addresses is inside (see {@link EgressRefusedError}), and opens the socket to exactly the
 * addresses it checked: the name is never resolved again, so a DNS answer that changes
 * between check and connect (rebinding) cannot move the connection. TLS still verifies the
 * certificate against the name in the URL (the connector derives the SNI from `host`).
 */
export function egressConnector(options: EgressGuardOptions): buildConnector.connector {
  const allow = options.allow.map((c) => (typeof c === 'string' ? parseCidr(c) : c));
  const lookup = options.lookup ?? defaultLookup;
  const base = options.connector ?? buildConnector(options.connect ?? {});
  const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
    const family = isIP(hostname);
    const addresses = family ? [{ address: hostname, family }] : await lookup(hostname);
    if (addresses.length === 0)
      throw Object.assign(new Error(`${hostname} resolves to no address`), { code: 'ENOTFOUND' });
    // Every address, not only the first: a name listing one inside address is refused whole,
    // since a later attempt (or another resolver) could pick that one.
    for (const { address } of addresses) {
      const refusal = egressRefusal(hostname, address, allow);
      if (refusal) throw refusal;
    }
    return addresses;
  };
  return (connectOptions, callback) => {
    resolve(connectOptions.hostname).then(
      (addresses) => {
        const attempt = (index: number) =>
          base({ ...connectOptions, hostname: addresses[index]!.address }, (...args) => {
            const [error] = args;
            const code = (error as { code?: string } | null)?.code;
            if (error && index + 1 < addresses.length && code && NEXT_ADDRESS.has(code))
              attempt(index + 1);
            else callback(...args);
          });
        attempt(0);
      },
      (error: Error) => callback(error, null),
    );
  };
}

/**
 * An undici `Agent` (a fetch dispatcher) whose every connection goes through
 * {@link egressConnector}. Pass it as fetch's `dispatcher`, or use {@link egressFetch}.
 */
export function egressAgent(
  options: EgressGuardOptions & Omit<Agent.Options, 'connect'> = { allow: [] },
): Agent {
  const { allow, lookup, connect, connector, ...agentOptions } = options;
  return new Agent({
    ...agentOptions,
    connect: egressConnector({ allow, lookup, connect, connector }),
  });
}

/** `fetch` with the MCP SDK's and the executors' signature, sent through `agent`. */
export type EgressFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** The global fetch, every request of which goes through `agent` (see {@link egressAgent}). */
export function egressFetch(agent: Agent): EgressFetch {
  // Node's fetch is undici's: it takes an undici dispatcher of the same major version, which
  // its RequestInit type (from undici-types) does not know by this class.
  return (url, init) => fetch(url, { ...init, dispatcher: agent } as RequestInit);
}
