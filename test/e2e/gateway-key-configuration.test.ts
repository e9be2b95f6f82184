import { describe, expect, it } from 'vitest';
import { GatewayKeys } from '../../src/auth/gateway-keys.js';
import { loadConfig } from '../../src/config/config.js';
import { TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/** How GATEWAY_API_KEYS (or its file) and the per-tenant limits are read, and how a presented key finds its tenant. */

describe('gateway key configuration', () => {
  it('reads tenant:key pairs from GATEWAY_API_KEYS or from the file GATEWAY_API_KEYS_FILE names', () => {
    const inline = loadConfig({ GATEWAY_API_KEYS: TWO_TENANT_KEYS });
    expect(inline.ok && inline.value.auth.apiKeys.map((k) => k.tenant)).toEqual(['alpha', 'beta']);

    const fromFile = loadConfig({ GATEWAY_API_KEYS_FILE: '/run/secrets/keys' }, (path) => {
      expect(path).toBe('/run/secrets/keys');
      return `# one per line\nalpha:${TENANTS.alpha}\n\nbeta:${TENANTS.beta}\n`;
    });
    expect(fromFile.ok && fromFile.value.auth.apiKeys).toEqual([
      { tenant: 'alpha', key: TENANTS.alpha },
      { tenant: 'beta', key: TENANTS.beta },
    ]);

    const both = loadConfig({ GATEWAY_API_KEYS: TWO_TENANT_KEYS, GATEWAY_API_KEYS_FILE: '/x' }, () => '');
    expect(both.ok).toBe(false);
  });

  it('defaults to 60 tasks per minute and 20 unfinished tasks per tenant', () => {
    const config = loadConfig({});
    expect(config.ok && config.value.auth).toMatchObject({ rateLimitPerMinute: 60, maxActiveTasks: 20 });
    const tuned = loadConfig({ TENANT_RATE_LIMIT_PER_MINUTE: '5', TENANT_MAX_ACTIVE_TASKS: '2' });
    expect(tuned.ok && tuned.value.auth).toMatchObject({ rateLimitPerMinute: 5, maxActiveTasks: 2 });
    expect(loadConfig({ TENANT_RATE_LIMIT_PER_MINUTE: '0' }).ok).toBe(false);
  });

  it('refuses a malformed key entry without echoing the secret in the message', () => {
    const secret = 'short-secret';
    const result = loadConfig({ GATEWAY_API_KEYS: `alpha:${secret}` });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.variable).toBe('GATEWAY_API_KEYS');
      expect(result.error.message).not.toContain(secret);
    }
  });

  it('accepts several keys for one tenant (rotation) but refuses one key for two entries', () => {
    const rotating = loadConfig({ GATEWAY_API_KEYS: `alpha:${TENANTS.alpha},alpha:${TENANTS.beta}` });
    expect(rotating.ok).toBe(true);
    const keys = new GatewayKeys(rotating.ok ? rotating.value.auth.apiKeys : []);
    expect(keys.authenticate(`Bearer ${TENANTS.alpha}`)).toEqual({ ok: true, value: 'alpha' });
    expect(keys.authenticate(`Bearer ${TENANTS.beta}`)).toEqual({ ok: true, value: 'alpha' });

    const shared = loadConfig({ GATEWAY_API_KEYS: `alpha:${TENANTS.alpha},beta:${TENANTS.alpha}` });
    expect(shared.ok).toBe(false);
    if (!shared.ok) {
      expect(shared.error.message).toMatch(/entry 2 repeats the key of entry 1/);
      expect(shared.error.message).not.toContain(TENANTS.alpha);
    }
  });

  it('matches a presented key to its tenant and rejects near misses', () => {
    const keys = new GatewayKeys([
      { tenant: 'alpha', key: TENANTS.alpha },
      { tenant: 'beta', key: TENANTS.beta },
    ]);
    expect(keys.authenticate(`Bearer ${TENANTS.beta}`)).toEqual({ ok: true, value: 'beta' });
    expect(keys.authenticate(`bearer ${TENANTS.alpha}`)).toEqual({ ok: true, value: 'alpha' });
    for (const bad of [
      `Bearer ${TENANTS.alpha}x`,
      `Bearer ${TENANTS.alpha.slice(0, -1)}`,
      TENANTS.alpha,
      undefined,
    ]) {
      expect(keys.authenticate(bad).ok).toBe(false);
    }
    expect(new GatewayKeys([]).authenticate(undefined)).toEqual({ ok: true, value: 'local' });
  });
});
