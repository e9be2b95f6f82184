import { describe, expect } from 'vitest';
import { eventually, type TestStack } from '../support/harness.js';
import { stackTest } from '../support/stack-test.js';
import { bearer, generate, TENANTS, TWO_TENANT_KEYS } from '../support/tenancy.js';

/** Issue #15: `viewer` tells a tenant its name and where it stands against its limits. */

const VIEWER = 'query { viewer { name limits { perMinute remainingThisMinute resetsAt maxActive active } } }';

interface ViewerView {
  name: string;
  limits: {
    perMinute: number;
    remainingThisMinute: number;
    resetsAt: string | null;
    maxActive: number;
    active: number;
  };
}

async function viewer(stack: TestStack, key: string): Promise<ViewerView> {
  const answer = await stack.gql<{ viewer: ViewerView }>(VIEWER, {}, bearer(key));
  if (!answer.body.data) throw new Error(JSON.stringify(answer.body));
  return answer.body.data.viewer;
}

const it = stackTest({
  engine: { durationMs: 1_000 },
  env: {
    GATEWAY_API_KEYS: TWO_TENANT_KEYS,
    TENANT_RATE_LIMIT_PER_MINUTE: '5',
    TENANT_MAX_ACTIVE_TASKS: '3',
  },
});

describe('viewer', () => {
  it('shows each tenant its own name, what is left this minute and its unfinished tasks', async ({
    stack,
  }) => {
    expect(await viewer(stack, TENANTS.alpha)).toEqual({
      name: 'alpha',
      limits: { perMinute: 5, remainingThisMinute: 5, resetsAt: null, maxActive: 3, active: 0 },
    });
    await generate(stack, TENANTS.alpha);
    await generate(stack, TENANTS.alpha);
    const busy = await viewer(stack, TENANTS.alpha);
    expect(busy.limits).toMatchObject({ remainingThisMinute: 3, active: 2 });
    expect(busy.limits.resetsAt).not.toBeNull();
    expect((await viewer(stack, TENANTS.beta)).limits).toMatchObject({ remainingThisMinute: 5, active: 0 });
    // Finished tasks stop counting as active; their creations stay in the window.
    const idle = await eventually(async () => {
      const now = await viewer(stack, TENANTS.alpha);
      return now.limits.active === 0 ? now : undefined;
    }, 30_000);
    expect(idle.limits.remainingThisMinute).toBe(3);
  });
});
