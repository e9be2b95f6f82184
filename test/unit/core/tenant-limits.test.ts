import { describe, expect, it } from 'vitest';
import { creditDay, creditDayEnd, heldUnits } from '../../../src/core/credits.js';
import { type CreditCaps, checkCredits, creditStanding } from '../../../src/core/tenant-limits.js';

const PRICES = { perImage: 3, cutout: 1 };
const CAPS: CreditCaps = { perTenant: { acme: 30 }, perSubject: 10, prices: PRICES };
const NOON = Date.UTC(2026, 11, 6, 12, 0, 0);
const NOTHING = { images: 0, cutouts: 0 };

describe('daily credit caps (#25)', () => {
  it('counts a UTC calendar day and ends it at midnight UTC', () => {
    expect(creditDay(Date.UTC(2026, 11, 6, 0, 0, 0))).toBe(creditDay(Date.UTC(2026, 11, 6, 23, 59, 59, 999)));
    expect(creditDay(Date.UTC(2026, 11, 7))).toBe(creditDay(NOON) + 1);
    expect(creditDayEnd(NOON).toISOString()).toBe('2026-12-07T00:00:00.000Z');
  });

  it("holds an unfinished task's estimate, and a final task's charge", () => {
    const image = { key: 'k', width: 1, height: 1, contentType: 'image/png', bytes: 1 };
    expect(heldUnits({ state: 'QUEUED', batchSize: 2, images: [], cutout: { status: 'waiting' } })).toEqual({
      images: 2,
      cutouts: 1,
    });
    expect(heldUnits({ state: 'SUCCEEDED', batchSize: 2, images: [image], cutout: null })).toEqual({
      images: 1,
      cutouts: 0,
    });
    expect(heldUnits({ state: 'FAILED', batchSize: 2, images: [], cutout: { status: 'waiting' } })).toEqual(
      NOTHING,
    );
  });

  it('admits a task that reaches the cap exactly and refuses one credit more, with when the day ends', () => {
    const tenant = { tenantId: 'acme', subject: null };
    const twoImages = { images: 2, cutouts: 0 };
    expect(checkCredits(CAPS, tenant, { images: 8, cutouts: 0 }, twoImages, NOON).ok).toBe(true);
    expect(checkCredits(CAPS, tenant, { images: 8, cutouts: 1 }, twoImages, NOON).ok).toBe(false);
    const refused = checkCredits(CAPS, tenant, { images: 9, cutouts: 2 }, { images: 1, cutouts: 0 }, NOON);
    expect(refused.ok ? null : refused.error).toEqual({
      kind: 'QUOTA_EXCEEDED',
      message: expect.stringContaining('1 are left today; this task would reserve 3'),
      resetsAt: new Date('2026-12-07T00:00:00.000Z'),
      retryAfterSeconds: 12 * 60 * 60,
    });
  });

  it('leaves uncapped tenants alone and applies the end-user cap to every subject', () => {
    const huge = { images: 1_000, cutouts: 0 };
    expect(checkCredits(CAPS, { tenantId: 'beta', subject: null }, huge, huge, NOON).ok).toBe(true);
    expect(
      checkCredits(CAPS, { tenantId: 'beta', subject: 'bob' }, NOTHING, { images: 4, cutouts: 0 }, NOON).ok,
    ).toBe(false);
  });

  it("reports a session's own cap and the least that any binding cap leaves", async () => {
    const held = async (scope: { subject: string | null }) =>
      scope.subject === null ? { images: 8, cutouts: 0 } : { images: 1, cutouts: 0 };
    // The user's cap (10) leaves 7, the tenant's (30) only 6.
    expect(await creditStanding(CAPS, { tenantId: 'acme', subject: 'alice' }, held, NOON)).toEqual({
      creditsPerDay: 10,
      creditsRemainingToday: 6,
      creditsResetAt: new Date('2026-12-07T00:00:00.000Z'),
    });
    expect(await creditStanding(CAPS, { tenantId: 'acme', subject: null }, held, NOON)).toMatchObject({
      creditsPerDay: 30,
      creditsRemainingToday: 6,
    });
    const uncappedTenant = await creditStanding(
      { ...CAPS, perSubject: null },
      { tenantId: 'beta', subject: 'bob' },
      held,
      NOON,
    );
    expect(uncappedTenant).toMatchObject({ creditsPerDay: null, creditsRemainingToday: null });
  });
});
