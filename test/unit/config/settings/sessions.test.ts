import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../src/config/config.js';

/** JWT_ISSUERS_FILE, SESSION_TOKEN_SECRET and the per-subject limits (#23), read without a server. */

const entry = {
  tenant: 'shop',
  issuer: 'https://shop.eu.auth0.com/',
  audience: 'https://gateway.shop.example',
  jwksUrl: 'https://shop.eu.auth0.com/.well-known/jwks.json',
};

function withIssuers(contents: unknown) {
  return loadConfig({ JWT_ISSUERS_FILE: '/issuers.json' }, () => JSON.stringify(contents));
}

describe('session settings', () => {
  it('reads identity providers with subjectClaim defaulting to sub, and the per-subject limits', () => {
    const config = withIssuers([
      entry,
      {
        ...entry,
        issuer: 'http://127.0.0.1:9999/',
        jwksUrl: 'http://localhost:9999/jwks',
        subjectClaim: 'uid',
      },
    ]);
    expect(config.ok && config.value.identity).toEqual({
      sessionTokenSecret: null,
      jwtIssuers: [
        { ...entry, subjectClaim: 'sub' },
        {
          ...entry,
          issuer: 'http://127.0.0.1:9999/',
          jwksUrl: 'http://localhost:9999/jwks',
          subjectClaim: 'uid',
        },
      ],
      subjectRateLimitPerMinute: 10,
      subjectMaxActiveTasks: 4,
      subjectDailyCredits: null,
    });
  });

  it('refuses a plain-http JWKS off loopback, a missing field, a repeated issuer and a file that is not JSON', () => {
    const refusal = (contents: unknown) => {
      const config = withIssuers(contents);
      return config.ok ? null : config.error;
    };
    expect(refusal([{ ...entry, jwksUrl: 'http://shop.example/jwks.json' }])).toEqual({
      variable: 'JWT_ISSUERS_FILE',
      message: 'JWT_ISSUERS_FILE at 0.jwksUrl: jwksUrl must be an https URL (http only on loopback)',
    });
    expect(refusal([{ tenant: 'shop', issuer: entry.issuer, jwksUrl: entry.jwksUrl }])?.message).toMatch(
      /at 0\.audience/,
    );
    expect(refusal([entry, entry])?.message).toMatch(/each issuer may appear once/);
    const notJson = loadConfig({ JWT_ISSUERS_FILE: '/issuers.json' }, () => '{ nope');
    expect(notJson.ok ? null : notJson.error.message).toMatch(/is not JSON/);
  });

  it('refuses a short SESSION_TOKEN_SECRET and lets identity providers alone protect a public HOST', () => {
    const short = loadConfig({ SESSION_TOKEN_SECRET: 'too-short' });
    expect(short.ok ? null : short.error.variable).toBe('SESSION_TOKEN_SECRET');
    expect(loadConfig({ HOST: '0.0.0.0' }).ok).toBe(false);
    expect(
      loadConfig({ HOST: '0.0.0.0', JWT_ISSUERS_FILE: '/i.json' }, () => JSON.stringify([entry])).ok,
    ).toBe(true);
  });
});
