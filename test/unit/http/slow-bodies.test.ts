import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config.js';
import { BodyPace, type BodyVerdict } from '../../../src/http/slow-bodies.js';

const limits = {
  requestIdleTimeoutMs: 1_000,
  requestBodyMinBytesPerSecond: 100,
  requestBodyRateWindowMs: 2_000,
};

/** Feeds `pace` a look every `everyMs`, `bytesPerLook` more each time, until a verdict or `untilMs`. */
function run(pace: BodyPace, everyMs: number, bytesPerLook: number, untilMs: number, waiting = false) {
  let bytes = 0;
  for (let now = everyMs; now <= untilMs; now += everyMs) {
    bytes += bytesPerLook;
    const verdict: BodyVerdict = pace.look(now, bytes, waiting);
    if (verdict) return { verdict, at: now };
  }
  return { verdict: null, at: untilMs };
}

describe('BodyPace', () => {
  it('cuts a body that sends nothing for the idle limit', () => {
    expect(run(new BodyPace(limits, 0, 0), 250, 0, 10_000)).toEqual({ verdict: 'idle', at: 1_000 });
  });

  it('cuts a body that dodges the idle limit with a byte now and then, once a window falls short of the rate', () => {
    expect(run(new BodyPace(limits, 0, 0), 500, 1, 10_000)).toEqual({ verdict: 'slow', at: 2_000 });
  });

  it('lets a body at the minimum rate go on, window after window', () => {
    expect(run(new BodyPace(limits, 0, 0), 500, 50, 60_000).verdict).toBeNull();
  });

  it('blames nobody while the gateway is not reading (the body waits in a full buffer)', () => {
    expect(run(new BodyPace(limits, 0, 0), 500, 0, 60_000, true).verdict).toBeNull();
  });

  it('with the default settings, ends a body dripping one byte every 3 s within a minute', () => {
    const config = loadConfig({});
    if (!config.ok) throw new Error('the defaults do not load');
    const pace = new BodyPace(config.value.http, 0, 0);
    const { verdict, at } = run(pace, 3_000, 1, 300_000);
    expect(verdict).toBe('slow');
    expect(at).toBeLessThanOrEqual(60_000);
  });
});
