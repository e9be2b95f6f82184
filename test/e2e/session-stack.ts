import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GraphQLErrorShape, TestStack } from '../support/harness.js';
import { startIdentityProvider, type TestIdentityProvider } from '../support/identity-provider.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/**
 * What the end-user session specs (#23) share: a gateway whose tenants mint session tokens
 * (SESSION_TOKEN_SECRET) and whose tenant beta trusts an identity provider (JWT_ISSUERS_FILE),
 * the operations they send, and minting a token.
 */

export const SESSION_SECRET = 'session-secret-for-tests-0123456789abcdef';
export const MINT = `mutation Mint($subject: String!, $ttl: Int) {
  createSessionToken(input: { subject: $subject, ttlSeconds: $ttl }) { token subject expiresAt }
}`;
export const VIEWER = 'query { viewer { name scope subject limits { perMinute maxActive } } }';
export const LIST = `query List($subject: String, $after: String) {
  backgroundTasks(first: 100, subject: $subject, after: $after) { totalCount edges { node { id subject } } }
}`;
export const SUBSCRIBE = 'subscription Follow($id: ID!) { backgroundTaskUpdated(id: $id) { id state } }';

/**
 * A `test` with the identity provider (`idp`) and the gateway (`stack`), both once per file. The
 * gateway reads JWT_ISSUERS_FILE when it starts, so `stack` asks for `idp` (which writes that
 * file) before the stack it wraps.
 */
export function sessionTest() {
  const dir = mkdtempSync(join(tmpdir(), 'gw-sessions-'));
  const issuersFile = join(dir, 'issuers-beta.json');
  return stackTest({
    engine: { durationMs: 300 },
    env: {
      GATEWAY_API_KEYS: TWO_TENANT_KEYS,
      SESSION_TOKEN_SECRET: SESSION_SECRET,
      JWT_ISSUERS_FILE: issuersFile,
      SUBJECT_RATE_LIMIT_PER_MINUTE: '100',
      SUBJECT_MAX_ACTIVE_TASKS: '100',
    },
  }).extend<{ idp: TestIdentityProvider; stack: TestStack }>({
    idp: [
      // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern.
      async ({}, use) => {
        const idp = await startIdentityProvider();
        try {
          if (idp.issuersFile(dir, 'beta') !== issuersFile) throw new Error('the issuers file moved');
          await use(idp);
        } finally {
          await idp.close();
          rmSync(dir, { recursive: true, force: true });
        }
      },
      { scope: 'file' },
    ],
    // `idp` first: vitest sets a fixture's dependencies up in the order this pattern names them.
    stack: [async ({ idp: _idp, stack }, use) => use(stack), { scope: 'file' }],
  });
}

export async function mint(
  stack: TestStack,
  subject: string,
  key: string = TENANTS.alpha,
  ttl?: number,
): Promise<string> {
  const answer = await stack.gql<{ createSessionToken: { token: string } }>(
    MINT,
    { subject, ttl: ttl ?? null },
    bearer(key),
  );
  const token = answer.body.data?.createSessionToken.token;
  if (!token) throw new Error(JSON.stringify(answer.body));
  return token;
}

export function codeOf(errors: GraphQLErrorShape[] | undefined): string | undefined {
  return errors?.[0]?.extensions?.code;
}
