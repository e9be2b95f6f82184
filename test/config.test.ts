import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config.js';

describe('configuration', () => {
  it('starts with the documented defaults', () => {
    const config = loadConfig({});
    expect(config.ok).toBe(true);
    if (!config.ok) return;
    expect(config.value.port).toBe(4000);
    expect(config.value.host).toBe('127.0.0.1');
    expect(config.value.picwish).toMatchObject({
      apiKey: null,
      baseUrl: 'https://techhk.aoscdn.com',
      timeoutMs: 30_000,
      qps: 2,
      taskDeadlineMs: 300_000,
    });
    expect(config.value.logLevel).toBe('info');
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['PICWISH_TIMEOUT_MS', '-5'],
    ['PICWISH_QPS', 'fast'],
    ['PICWISH_BASE_URL', 'ftp://example.com'],
    ['LOG_LEVEL', 'loud'],
    ['RESULT_URL_TTL_SECONDS', '1.5'],
    ['FILES_SIGNING_SECRET', 'short'],
    ['GATEWAY_API_KEYS', 'no-colon-here'],
    ['GATEWAY_FAST_PATHS', 'maybe'],
  ])('refuses %s=%s with a message naming the variable', (variable, value) => {
    const config = loadConfig({ [variable]: value });
    expect(config.ok).toBe(false);
    if (config.ok) return;
    expect(config.error.variable).toBe(variable);
    expect(config.error.message).toContain(variable);
  });

  it('accepts a fractional QPS budget', () => {
    const config = loadConfig({ PICWISH_QPS: '0.5' });
    expect(config.ok && config.value.picwish.qps).toBe(0.5);
  });

  it('never echoes a gateway key it refuses', () => {
    const config = loadConfig({ GATEWAY_API_KEYS: 'team:short-secret' });
    expect(config.ok).toBe(false);
    if (!config.ok) expect(config.error.message).not.toContain('short-secret');
  });
});
