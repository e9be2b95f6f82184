import { describe, expect, it } from 'vitest';
import { GatewayMetrics, OTHER_TENANT } from '../../../src/observability/metrics.js';
import { SchedulerMetrics } from '../../../src/scheduler/scheduler-metrics.js';
import { PRICES } from '../../support/scheduler-parts.js';
import { sampleTask } from '../../support/store-contract.js';

/** What the scheduler reports (src/scheduler/scheduler-metrics.ts), read back from the registry. */

async function value(metrics: GatewayMetrics, name: string, labels: Record<string, string> = {}) {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const sample = metric?.values.find((v) =>
    Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l),
  );
  return sample?.value;
}

describe('scheduler metrics', () => {
  it('count the tasks waiting to be sent apart from those already running upstream', async () => {
    const gateway = new GatewayMetrics();
    new SchedulerMetrics(gateway, PRICES, 'k1').tasksDriven(3, 5);
    expect(await value(gateway, 'gateway_queue_length', { key: 'k1' })).toBe(3);
    expect(await value(gateway, 'gateway_running_tasks', { key: 'k1' })).toBe(2);
  });

  it('count waiting charged steps by configured tenant and lane at scrape time, stopped ones as 0, never by key or end user', async () => {
    const gateway = new GatewayMetrics(['alpha', 'beta']);
    const metrics = new SchedulerMetrics(gateway, PRICES, 'k1');
    let waiting = [
      { tenantId: 'alpha', subject: 'someone', lane: 'BATCH' },
      { tenantId: 'alpha', subject: null, lane: 'BATCH' },
      { tenantId: 'gone', subject: null, lane: 'INTERACTIVE' },
    ];
    metrics.countChargedWaiting(() => waiting);
    expect(await value(gateway, 'gateway_charged_steps_waiting', { tenant: 'alpha', lane: 'BATCH' })).toBe(2);
    expect(
      await value(gateway, 'gateway_charged_steps_waiting', { tenant: OTHER_TENANT, lane: 'INTERACTIVE' }),
    ).toBe(1);
    expect(await value(gateway, 'gateway_charged_steps_waiting', { tenant: 'beta', lane: 'BATCH' })).toBe(0);
    waiting = [];
    expect(await value(gateway, 'gateway_charged_steps_waiting', { tenant: 'alpha', lane: 'BATCH' })).toBe(0);
    const text = await gateway.registry.getSingleMetricAsString('gateway_charged_steps_waiting');
    expect(text).not.toMatch(/someone|key=/);
  });

  it('count upstream calls by kind and outcome, and finished tasks by state and code', async () => {
    const gateway = new GatewayMetrics();
    const metrics = new SchedulerMetrics(gateway, PRICES, 'k1');
    metrics.call('create', 'rate_limited', Date.now());
    metrics.finished('FAILED', 'UPSTREAM_TASK_LOST');
    expect(
      await value(gateway, 'picwish_upstream_calls_total', {
        kind: 'create',
        outcome: 'rate_limited',
        key: 'k1',
      }),
    ).toBe(1);
    expect(
      await value(gateway, 'gateway_tasks_finished_total', { state: 'FAILED', code: 'UPSTREAM_TASK_LOST' }),
    ).toBe(1);
  });

  it('count credits charged by configured tenant, each from 0, and any other tenant under one label', async () => {
    const gateway = new GatewayMetrics(['alpha', 'beta']);
    const metrics = new SchedulerMetrics(gateway, PRICES, 'k1');
    const image = { key: 'tasks/x/1.png', width: 8, height: 8, contentType: 'image/png', bytes: 9 };
    const succeeded = (tenantId: string, images: (typeof image)[]) =>
      metrics.charged(
        sampleTask({ tenantId, state: 'PROCESSING' }),
        sampleTask({ tenantId, state: 'SUCCEEDED', images }),
      );
    succeeded('alpha', [image, image]);
    succeeded('alpha', [image]);
    succeeded('removed-since', [image]);
    const credits = 'gateway_credits_charged_total';
    expect(await value(gateway, credits, { tenant: 'alpha' })).toBe(9);
    expect(await value(gateway, credits, { tenant: 'beta' })).toBe(0);
    expect(await value(gateway, credits, { tenant: OTHER_TENANT })).toBe(3);
    expect(await value(gateway, credits, { tenant: 'removed-since' })).toBeUndefined();
  });

  it('charge a cutout once when it is stored and only the images when that task then succeeds', async () => {
    const gateway = new GatewayMetrics(['alpha']);
    const metrics = new SchedulerMetrics(gateway, { perImage: 3, cutout: 2 }, 'k1');
    const image = { key: 'tasks/x/1.png', width: 8, height: 8, contentType: 'image/png', bytes: 9 };
    const cutout = { status: 'stored', image } as const;
    const waiting = sampleTask({ tenantId: 'alpha', state: 'QUEUED', cutout: { status: 'waiting' } });
    const cut = sampleTask({ tenantId: 'alpha', state: 'PROCESSING', cutout });
    metrics.charged(waiting, cut);
    expect(await value(gateway, 'gateway_credits_charged_total', { tenant: 'alpha' })).toBe(2);
    metrics.charged(cut, sampleTask({ tenantId: 'alpha', state: 'SUCCEEDED', cutout, images: [image] }));
    expect(await value(gateway, 'gateway_credits_charged_total', { tenant: 'alpha' })).toBe(5);
  });
});
