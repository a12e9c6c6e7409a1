#!/usr/bin/env node
// Mints a development token for the embedded platform (`make up`), signed with the dev key
// scripts/up.sh keeps in the cache. Usage:
//   node scripts/dev-token.mjs <subject> [scope ...]
//   export TOOLBUS_TOKEN=$(TOOLBUS_TEAMS=team-crm node scripts/dev-token.mjs alice registry:write registry:read)
// TOOLBUS_TEAMS (comma-separated) become the token's `groups`: the teams whose tools it may publish.
// Production tokens come from the identity provider (AUTH_JWKS_URL), never from here.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';

const [subject, ...scopes] = process.argv.slice(2);
if (!subject || subject.startsWith('-')) {
  process.stderr.write('usage: node scripts/dev-token.mjs <subject> [scope ...]\n');
  process.exit(2);
}
const cache =
  process.env.TOOLBUS_CACHE ??
  join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'toolbus');
let secret = process.env.AUTH_JWT_SECRET;
if (!secret) {
  try {
    secret = readFileSync(join(cache, 'dev-jwt-secret'), 'utf8').trim();
  } catch {
    process.stderr.write(`no dev key in ${cache}/dev-jwt-secret: run \`make up\` once first\n`);
    process.exit(1);
  }
}
const teams = (process.env.TOOLBUS_TEAMS ?? '')
  .split(',')
  .map((t) => t.trim())
  .filter(Boolean);
const token = await new SignJWT({
  scope: (scopes.length ? scopes : ['registry:read']).join(' '),
  tenant: process.env.TOOLBUS_TENANT ?? 'dev',
  toolbus_kind: 'user',
  ...(teams.length ? { groups: teams } : {}),
})
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject(subject)
  .setIssuer(process.env.AUTH_ISSUER ?? 'https://toolbus.dev')
  .setAudience(process.env.AUTH_AUDIENCE ?? 'toolbus')
  .setIssuedAt()
  .setExpirationTime('12h')
  .sign(new TextEncoder().encode(secret));
process.stdout.write(`${token}\n`);
