import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';

describe('configuration', () => {
  it('starts with the documented defaults', () => {
    const config = loadConfig({});
    expect(config.ok).toBe(true);
    if (!config.ok) return;
    expect(config.value.port).toBe(4000);
    expect(config.value.host).toBe('127.0.0.1');
    expect(config.value.picwish).toMatchObject({
      apiKeys: [],
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
    ['DATABASE_URL', 'mysql://db/gateway'],
    ['DATABASE_URL', 'not a url'],
    ['BLOB_STORE_URL', 'https://bucket.example.com/'],
    ['BLOB_STORE_URL', 's3://Not_A_Bucket/x'],
    ['S3_ENDPOINT', 'http://127.0.0.1:9000'],
    ['WEBHOOK_RETRY_BASE_MS', '5'],
    ['WEBHOOK_TIMEOUT_MS', 'soon'],
    ['TENANT_WEBHOOK_URLS', 'acme'],
    ['TENANT_WEBHOOK_URLS', 'acme=ftp://hooks.example/'],
    ['TENANT_WEBHOOK_URLS', 'acme=https://user:pw@hooks.example/'],
    ['TENANT_WEIGHTS', 'acme'],
    ['TENANT_WEIGHTS', 'acme:0'],
    ['TENANT_WEIGHTS', 'acme:heavy'],
    ['TENANT_WEIGHTS', 'acme:2,acme:3'],
    ['TENANT_DAILY_CREDITS', 'acme:1.5'],
    ['TENANT_DAILY_CREDITS', 'acme:-3'],
    ['TENANT_DAILY_CREDITS', 'acme'],
    ['SUBJECT_DAILY_CREDITS', 'plenty'],
    ['SUBJECT_DAILY_CREDITS', '-1'],
  ])('refuses %s=%s with a message naming the variable', (variable, value) => {
    const config = loadConfig({ [variable]: value });
    expect(config.ok).toBe(false);
    if (config.ok) return;
    expect(config.error.variable).toBe(variable);
    expect(config.error.message).toContain(variable);
  });

  it("reads tenants' weights in the fair share from TENANT_WEIGHTS, none by default (#25)", () => {
    const config = loadConfig({ TENANT_WEIGHTS: '# big\nacme:3, beta:0.5\n  gamma:1' });
    expect(config.ok && config.value.tenantWeights).toEqual({ acme: 3, beta: 0.5, gamma: 1 });
    const defaults = loadConfig({});
    expect(defaults.ok && defaults.value.tenantWeights).toEqual({});
  });

  it('reads daily credit caps from TENANT_DAILY_CREDITS and SUBJECT_DAILY_CREDITS, none by default (#25)', () => {
    const config = loadConfig({ TENANT_DAILY_CREDITS: 'acme:3000, beta:0', SUBJECT_DAILY_CREDITS: '60' });
    expect(config.ok && config.value.tenantDailyCredits).toEqual({ acme: 3000, beta: 0 });
    expect(config.ok && config.value.identity.subjectDailyCredits).toBe(60);
    const defaults = loadConfig({});
    expect(defaults.ok && defaults.value.tenantDailyCredits).toEqual({});
    expect(defaults.ok && defaults.value.identity.subjectDailyCredits).toBe(null);
  });

  it("reads each tenant's default webhook URL from TENANT_WEBHOOK_URLS", () => {
    const config = loadConfig({
      TENANT_WEBHOOK_URLS:
        '# shops\nacme=https://hooks.acme.example/picwish?a=1,2\n  beta=http://hooks.beta.example ',
    });
    expect(config.ok && config.value.webhooks.tenantDefaults).toEqual({
      acme: 'https://hooks.acme.example/picwish?a=1,2',
      beta: 'http://hooks.beta.example/',
    });
  });

  it('leaves tracing and persisted operations off unless asked for', () => {
    const config = loadConfig({});
    expect(config.ok && config.value.tracing).toBe(null);
    expect(config.ok && config.value.persistedOperations).toBe(null);
  });

  it('traces to OTEL_EXPORTER_OTLP_ENDPOINT under OTEL_SERVICE_NAME, and refuses a non-URL', () => {
    const config = loadConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_SERVICE_NAME: 'gw',
    });
    expect(config.ok && config.value.tracing).toEqual({
      endpoint: 'http://collector:4318',
      serviceName: 'gw',
    });
    const bad = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector' });
    expect(!bad.ok && bad.error.variable).toBe('OTEL_EXPORTER_OTLP_ENDPOINT');
  });

  it('refuses PERSISTED_OPERATIONS_ONLY without PERSISTED_OPERATIONS_FILE', () => {
    const config = loadConfig({ PERSISTED_OPERATIONS_ONLY: 'true' });
    expect(!config.ok && config.error.variable).toBe('PERSISTED_OPERATIONS_ONLY');
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

  it('reads the cluster settings: PostgreSQL and an S3 bucket with a prefix', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://gw:secret@db:5432/gateway',
      BLOB_STORE_URL: 's3://gateway-results/prod/eu/',
      S3_ENDPOINT: 'http://minio:9000',
      S3_FORCE_PATH_STYLE: 'true',
    });
    expect(config.ok).toBe(true);
    if (!config.ok) return;
    expect(config.value.databaseUrl).toBe('postgres://gw:secret@db:5432/gateway');
    expect(config.value.blobStore).toEqual({
      kind: 's3',
      bucket: 'gateway-results',
      prefix: 'prod/eu',
      endpoint: 'http://minio:9000',
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: null,
    });
    const withKeys = loadConfig({
      BLOB_STORE_URL: 's3://gateway-results',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'example-secret',
    });
    expect(withKeys.ok && withKeys.value.blobStore).toMatchObject({
      prefix: '',
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'example-secret' },
    });
    const half = loadConfig({ BLOB_STORE_URL: 's3://gateway-results', AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE' });
    expect(half.ok ? null : half.error.variable).toBe('AWS_SECRET_ACCESS_KEY');
    const embedded = loadConfig({});
    expect(embedded.ok && embedded.value.blobStore).toEqual({ kind: 'fs' });
    expect(embedded.ok && embedded.value.databaseUrl).toBeNull();
  });

  it('refuses REDIS_URL: the Redis mode was removed, and the message names DATABASE_URL and BLOB_STORE_URL', () => {
    const config = loadConfig({ REDIS_URL: 'redis://:hunter2-secret@cache:6379/0' });
    expect(config.ok).toBe(false);
    if (config.ok) return;
    expect(config.error.variable).toBe('REDIS_URL');
    expect(config.error.message).toMatch(/Redis cluster mode was removed/);
    expect(config.error.message).toContain('DATABASE_URL');
    expect(config.error.message).toContain('BLOB_STORE_URL');
    expect(config.error.message).not.toContain('hunter2');
    // Even beside the new settings: an operator half-way through the move is told to finish it.
    const both = loadConfig({ REDIS_URL: 'redis://cache:6379', DATABASE_URL: 'postgres://db/gateway' });
    expect(both.ok ? null : both.error.variable).toBe('REDIS_URL');
    expect(loadConfig({ REDIS_URL: '' }).ok).toBe(true);
  });

  it('never echoes a DATABASE_URL it refuses (it may hold a password)', () => {
    const config = loadConfig({ DATABASE_URL: 'mysql://gw:hunter2-secret@db/gateway' });
    expect(config.ok).toBe(false);
    if (!config.ok) expect(config.error.message).not.toContain('hunter2');
  });
});
