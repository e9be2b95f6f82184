import { describe, expect, it } from 'vitest';
import {
  callerKey,
  canSee,
  isSubject,
  mintSession,
  requireServerScope,
  type SessionMinter,
  subjectFilter,
} from '../../../src/core/caller.js';

const server = { tenantId: 'alpha', subject: null };
const alice = { tenantId: 'alpha', subject: 'alice' };

const minter: SessionMinter = {
  mint: async (claims, ttl) => ({
    token: `${claims.tenantId}/${claims.subject}/${ttl}`,
    expiresAt: new Date(0),
  }),
};

describe('Caller', () => {
  it('lets a server key see its whole tenant and a session only its own subject’s records', () => {
    expect(canSee(server, { tenantId: 'alpha', subject: 'bob' })).toBe(true);
    expect(canSee(server, { tenantId: 'alpha' })).toBe(true);
    expect(canSee(server, { tenantId: 'beta', subject: null })).toBe(false);
    expect(canSee(alice, { tenantId: 'alpha', subject: 'alice' })).toBe(true);
    expect(canSee(alice, { tenantId: 'alpha', subject: 'bob' })).toBe(false);
    expect(canSee(alice, { tenantId: 'alpha', subject: null })).toBe(false);
    expect(canSee(alice, { tenantId: 'alpha' })).toBe(false);
    expect(canSee(alice, { tenantId: 'beta', subject: 'alice' })).toBe(false);
  });

  it('filters by subject: a session always by its own, a server key only when it asks', () => {
    expect(subjectFilter(alice, 'bob')).toBe('alice');
    expect(subjectFilter(server, 'bob')).toBe('bob');
    expect(subjectFilter(server)).toBeNull();
  });

  it('keys a server key and each session apart, within and across tenants', () => {
    const keys = [
      server,
      alice,
      { tenantId: 'alpha', subject: 'bob' },
      { tenantId: 'beta', subject: null },
    ].map(callerKey);
    expect(new Set(keys).size).toBe(4);
  });

  it('accepts 1–128 printable characters as a subject', () => {
    expect(isSubject('user-42')).toBe(true);
    expect(isSubject('ünïcødé 🙂')).toBe(true);
    expect(isSubject('x'.repeat(128))).toBe(true);
    for (const bad of ['', 'x'.repeat(129), 'tab\there', 'nul\u0000', 'del\u007f', 42, null]) {
      expect(isSubject(bad)).toBe(false);
    }
  });

  it('refuses the server-only operations to a session with FORBIDDEN naming the server scope', () => {
    expect(requireServerScope(server, 'rotateWebhookSecret').ok).toBe(true);
    const refused = requireServerScope(alice, 'rotateWebhookSecret');
    expect(refused.ok ? null : refused.error).toMatchObject({
      kind: 'FORBIDDEN',
      message: expect.stringMatching(/rotateWebhookSecret needs a server key/),
    });
  });

  it('mints a session for a server key only, with the default lifetime, and reports every bad field', async () => {
    expect(await mintSession(server, { subject: 'alice' }, minter)).toMatchObject({
      ok: true,
      value: { token: 'alpha/alice/900', subject: 'alice' },
    });
    expect(await mintSession(alice, { subject: 'bob' }, minter)).toMatchObject({
      ok: false,
      error: { kind: 'FORBIDDEN' },
    });
    const bad = await mintSession(server, { subject: '', ttlSeconds: 59 }, minter);
    expect(
      bad.ok ? [] : bad.error.kind === 'BAD_USER_INPUT' ? bad.error.problems.map((p) => p.reason) : [],
    ).toEqual(['INVALID_SUBJECT', 'INVALID_TTL']);
    expect((await mintSession(server, { subject: 'a', ttlSeconds: 86_401 }, minter)).ok).toBe(false);
    expect((await mintSession(server, { subject: 'a', ttlSeconds: 86_400 }, minter)).ok).toBe(true);
  });
});
