import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WatchNoticeListener } from '../../../../src/adapters/postgres/pg-event-target.js';
import { PgWatchPresence, type WatchNotices } from '../../../../src/adapters/postgres/pg-watch-presence.js';
import { TaskEvents } from '../../../../src/core/events.js';

/**
 * Which tasks are watched on other cluster instances (src/adapters/postgres/pg-watch-presence.ts):
 * announcements, heartbeats and their lapse, on fake timers. The notices between instances are a
 * bus in memory here; test/e2e/cluster/watchers.test.ts runs them over PostgreSQL between processes.
 */

/** Instances on one bus: each hears what the others announce, never its own notices. */
function bus() {
  const members: { origin: string; listeners: WatchNoticeListener[] }[] = [];
  const sent: { origin: string; ids: readonly string[]; on: boolean }[] = [];
  const held: (() => void)[] = [];
  let up = true;
  let holding = false;
  return {
    sent,
    /** PostgreSQL unreachable (`false`): notices are lost. */
    connected(value: boolean) {
      up = value;
    },
    /** Keeps notices back until `release`, which delivers them newest first. */
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const deliver of held.splice(0).reverse()) deliver();
    },
    notices(origin: string): WatchNotices {
      const member = { origin, listeners: [] as WatchNoticeListener[] };
      members.push(member);
      let seq = 0;
      return {
        announceWatches(ids, on) {
          sent.push({ origin, ids, on });
          if (!up) return;
          const s = ++seq;
          const deliver = () => {
            for (const other of members) {
              if (other !== member) for (const listener of other.listeners) listener(origin, ids, on, s);
            }
          };
          if (holding) held.push(deliver);
          else deliver();
        },
        onWatchNotice(listener) {
          member.listeners.push(listener);
        },
      };
    },
  };
}

const running: PgWatchPresence[] = [];
function presence(notices: WatchNotices): PgWatchPresence {
  const made = new PgWatchPresence({ notices, heartbeatMs: 5_000 });
  made.start();
  running.push(made);
  return made;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  for (const each of running.splice(0)) each.close();
  vi.useRealTimers();
});

describe('watchers on other instances', () => {
  it('a watch on one instance is seen on the others at once, and its end too', () => {
    const net = bus();
    const leader = presence(net.notices('leader'));
    const follower = presence(net.notices('follower'));
    follower.watchedHere('t1', true);
    expect(leader.watchedElsewhere('t1')).toBe(true);
    expect(follower.watchedElsewhere('t1')).toBe(false);
    expect(leader.watchedElsewhere('t2')).toBe(false);
    follower.watchedHere('t1', false);
    expect(leader.watchedElsewhere('t1')).toBe(false);
  });

  it('stays watched while the watching instance keeps its heartbeat', () => {
    const net = bus();
    const leader = presence(net.notices('leader'));
    const follower = presence(net.notices('follower'));
    follower.watchedHere('t1', true);
    vi.advanceTimersByTime(60_000);
    expect(leader.watchedElsewhere('t1')).toBe(true);
    expect(net.sent.filter((notice) => notice.origin === 'follower' && notice.on)).toHaveLength(1 + 12);
  });

  it('lapses three heartbeats after a watching instance died without a word', () => {
    const net = bus();
    const leader = presence(net.notices('leader'));
    const follower = presence(net.notices('follower'));
    follower.watchedHere('t1', true);
    follower.close();
    vi.advanceTimersByTime(14_999);
    expect(leader.watchedElsewhere('t1')).toBe(true);
    vi.advanceTimersByTime(1);
    expect(leader.watchedElsewhere('t1')).toBe(false);
  });

  it('a watch still held by another instance outlives the one that lapsed', () => {
    const net = bus();
    const leader = presence(net.notices('leader'));
    const dying = presence(net.notices('dying'));
    const alive = presence(net.notices('alive'));
    dying.watchedHere('t1', true);
    dying.close();
    vi.advanceTimersByTime(7_000);
    alive.watchedHere('t1', true);
    vi.advanceTimersByTime(30_000);
    expect(leader.watchedElsewhere('t1')).toBe(true);
    alive.watchedHere('t1', false);
    expect(leader.watchedElsewhere('t1')).toBe(false);
  });

  it('notices lost while PostgreSQL was unreachable are made up by the next heartbeat', () => {
    const net = bus();
    const leader = presence(net.notices('leader'));
    const follower = presence(net.notices('follower'));
    net.connected(false);
    follower.watchedHere('t1', true);
    expect(leader.watchedElsewhere('t1')).toBe(false);
    net.connected(true);
    vi.advanceTimersByTime(5_000);
    expect(leader.watchedElsewhere('t1')).toBe(true);
  });

  it('a late notice does not undo a later one of the same instance (they travel on different connections)', () => {
    const net = bus();
    const leader = presence(net.notices('leader'));
    const follower = presence(net.notices('follower'));
    net.hold();
    follower.watchedHere('t1', true);
    follower.watchedHere('t1', false);
    net.release();
    expect(leader.watchedElsewhere('t1')).toBe(false);
    net.hold();
    follower.watchedHere('t1', true);
    follower.watchedHere('t1', false);
    follower.watchedHere('t1', true);
    net.release();
    expect(leader.watchedElsewhere('t1')).toBe(true);
  });

  it('an end of watching that was lost lapses like a dead instance', () => {
    const net = bus();
    const leader = presence(net.notices('leader'));
    const follower = presence(net.notices('follower'));
    follower.watchedHere('t1', true);
    net.connected(false);
    follower.watchedHere('t1', false);
    net.connected(true);
    expect(leader.watchedElsewhere('t1')).toBe(true);
    vi.advanceTimersByTime(15_000);
    expect(leader.watchedElsewhere('t1')).toBe(false);
  });
});

describe('where the scheduler learns a task is watched', () => {
  it('tells the presence when a task gains its first watcher and loses its last, and asks it about the rest', () => {
    const net = bus();
    const leader = presence(net.notices('leader'));
    const events = new TaskEvents(undefined, presence(net.notices('follower')));
    const leaderEvents = new TaskEvents(undefined, leader);
    const stopOne = events.watch('t1', () => {});
    const stopTwo = events.watch('t1', () => {});
    expect(net.sent).toEqual([{ origin: 'follower', ids: ['t1'], on: true }]);
    expect(events.watchedBy('t1')).toBe('here');
    expect(leaderEvents.watchedBy('t1')).toBe('elsewhere');
    stopOne();
    expect(leaderEvents.watchedBy('t1')).toBe('elsewhere');
    stopTwo();
    expect(net.sent.at(-1)).toEqual({ origin: 'follower', ids: ['t1'], on: false });
    expect(leaderEvents.watchedBy('t1')).toBe('nobody');
    expect(new TaskEvents().watchedBy('t1')).toBe('nobody');
  });
});
