import { env, type ConfigOf } from '@toolbus/service-kit';
import { parseCidr, type Cidr } from './address-class.js';

const CidrList = env.list().transform((items, ctx): Cidr[] => {
  const out: Cidr[] = [];
  for (const item of items) {
    try {
      out.push(parseCidr(item));
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  }
  return out;
});

/**
 * Config of every service that makes requests to addresses that come from catalog data (the
 * http-executor, the mcp-bridge, the registry's upstream connections): the inside addresses
 * they may reach anyway. Empty by default: a definition cannot point a service at its own
 * pod, the cloud's metadata endpoint or the cluster's private network.
 */
export const egressConfig = {
  EGRESS_ALLOW: {
    schema: CidrList.optional().transform((blocks) => blocks ?? []),
    description:
      'CIDR blocks outbound requests may reach although they are internal (loopback, link-local, private, unique-local, CGNAT...), comma-separated, e.g. 127.0.0.1/32 for a sidecar; unset refuses every internal address',
  },
};

export type EgressConfig = ConfigOf<typeof egressConfig>;
