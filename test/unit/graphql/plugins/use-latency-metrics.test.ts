import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useLatencyMetrics } from '../../../../src/graphql/plugins/use-latency-metrics.js';
import { postOperation, servePlugins } from '../../../support/plugin-server.js';

/** useLatencyMetrics on its own: request and phase histograms on the registry it is given. */

describe('useLatencyMetrics', () => {
  const registry = new Registry();
  let server: Awaited<ReturnType<typeof servePlugins>>;

  beforeAll(async () => {
    server = await servePlugins([useLatencyMetrics({ registry, buckets: [0.1, 1] })]);
  });
  afterAll(() => server.close());

  const count = async (name: string, labels: Record<string, string> = {}) => {
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
    const values = (metric?.values ?? []) as {
      metricName?: string;
      labels: Record<string, unknown>;
      value: number;
    }[];
    return values
      .filter((v) => v.metricName === `${name}_count`)
      .filter((v) => Object.entries(labels).every(([key, value]) => String(v.labels[key]) === value))
      .reduce((sum, v) => sum + v.value, 0);
  };

  it('records one HTTP duration and one parse, validate and execute duration per query', async () => {
    await postOperation(server.url, 'query First { hello }');
    await postOperation(server.url, '{ hello }');
    expect(await count('graphql_yoga_http_duration', { method: 'POST', statusCode: '200' })).toBe(2);
    expect(await count('graphql_envelop_phase_parse')).toBe(2);
    expect(await count('graphql_envelop_phase_validate')).toBe(2);
    expect(await count('graphql_envelop_phase_execute', { operationType: 'query' })).toBe(2);
  });

  it('uses the buckets it is given, and no operation-name or URL label', async () => {
    const text = await registry.metrics();
    expect(text).toContain('graphql_envelop_phase_execute_bucket{le="0.1",operationType="query"}');
    expect(text).not.toMatch(/operationName=|url=/);
  });

  it('adds no counter or summary beside the histograms', async () => {
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    expect(
      names.every(
        (name) => name.startsWith('graphql_yoga_http_duration') || name.startsWith('graphql_envelop_phase_'),
      ),
    ).toBe(true);
  });
});
