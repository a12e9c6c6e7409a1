import { z } from 'zod';
import { env, type ConfigOf } from '@toolbus/service-kit';

/** `https://host` or `https://host:port` (http only for loopback test servers). */
const Origin = z.string().refine((v) => {
  try {
    const url = new URL(v);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === v;
  } catch {
    return false;
  }
}, 'must be an origin: scheme://host[:port], without a path');

/**
 * Which origins each mounted credential may be sent to. A definition names a secret and a base
 * URL; without this map a registry writer could pair the CRM's token with a host of their own
 * and have the executor deliver it (a confused deputy). The registry refuses such a definition
 * at registration and the executors refuse it again at execution.
 */
export const credentialOriginsConfig = {
  CREDENTIAL_ORIGINS: {
    schema: env.json(z.record(z.string().min(1), z.array(Origin).min(1))),
    default: '{}',
    description:
      'JSON map of a secret name to the origins it may be sent to, e.g. {"crm-api":["https://crm.internal"]}; a secret not listed is sent nowhere',
  },
};

export type CredentialOriginsConfig = ConfigOf<typeof credentialOriginsConfig>;
export type CredentialOrigins = CredentialOriginsConfig['CREDENTIAL_ORIGINS'];

/**
 * Why `secret` may not be sent to `url`, or undefined when it may: the URL's origin must be
 * one the map lists for that secret.
 */
export function credentialOriginProblem(
  origins: CredentialOrigins,
  secret: string,
  url: string,
): string | undefined {
  let origin: string;
  try {
    origin = new URL(url).origin;
  } catch {
    return `"${url}" is not a URL`;
  }
  const allowed = origins[secret];
  if (!allowed)
    return `the credential "${secret}" may be sent to no origin: CREDENTIAL_ORIGINS does not list it`;
  if (!allowed.includes(origin))
    return `the credential "${secret}" may be sent only to ${allowed.join(', ')}, not to ${origin}`;
  return undefined;
}
