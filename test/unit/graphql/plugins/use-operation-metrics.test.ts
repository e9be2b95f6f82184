import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useOperationMetrics } from '../../../../src/graphql/plugins/use-operation-metrics.js';
import { postOperation, servePlugins } from '../../../support/plugin-server.js';

/** useOperationMetrics on its own: operations counted by name and outcome, the labels capped. */

describe('useOperationMetrics', () => {
  const registry = new Registry();
  const counter = new Counter({
    name: 'ops_total',
    help: 'operations',
    labelNames: ['operation', 'outcome'] as const,
    registers: [registry],
  });
  let server: Awaited<ReturnType<typeof servePlugins>>;

  beforeAll(async () => {
    server = await servePlugins([useOperationMetrics({ counter, maxLabels: 2, maxNameLength: 10 })]);
  });
  afterAll(() => server.close());

  const counts = async () =>
    Object.fromEntries(
      (await counter.get()).values.map((v) => [`${v.labels.operation}/${v.labels.outcome}`, v.value]),
    );

  it('counts by operation name and outcome, anonymous operations under "anonymous"', async () => {
    await postOperation(server.url, 'query First { hello }');
    await postOperation(server.url, 'query First { boom }');
    await postOperation(server.url, '{ hello }');
    expect(await counts()).toEqual({ 'First/ok': 1, 'First/error': 1, 'anonymous/ok': 1 });
  });

  it('counts names past maxLabels as "other", and cuts long names to maxNameLength', async () => {
    await postOperation(server.url, 'query Third { hello }');
    await postOperation(server.url, 'query AVeryLongOperationName { hello }');
    const after = await counts();
    expect(after['other/ok']).toBe(2);
    expect(Object.keys(after).some((key) => key.startsWith('AVeryLongO'))).toBe(false);
  });

  it('counts nothing for an operation that never ran (refused by validation)', async () => {
    const before = await counts();
    await postOperation(server.url, 'query Broken { nope }');
    expect(await counts()).toEqual(before);
  });
});
