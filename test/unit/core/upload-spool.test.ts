import { existsSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteTaskStore } from '../../../src/adapters/sqlite/sqlite-store.js';
import { UploadSpool } from '../../../src/core/upload-spool.js';
import { queuedTask } from '../../support/scheduler-parts.js';

/** The one owner of spooled uploads (src/core/upload-spool.ts), on a temporary directory. */

const store = new SqliteTaskStore(':memory:');
afterEach(async () => {
  for (const id of ['live', 'done']) await store.delete(id);
});

function freshSpool(): UploadSpool {
  return new UploadSpool(join(mkdtempSync(join(tmpdir(), 'upload-spool-')), 'spool'));
}

function fileSource(path: string) {
  return { kind: 'file' as const, spoolPath: path, sha256: 'x', bytes: 3, width: 1, height: 1 };
}

describe('the upload spool', () => {
  it('refuses an upload that is not a PNG and leaves nothing on disk', async () => {
    const spool = freshSpool();
    const accepted = await spool.accept('t1', Readable.from([Buffer.from('not a png at all')]));
    expect(accepted.ok).toBe(false);
    expect(existsSync(join(spool.dir, 't1.png'))).toBe(false);
  });

  it('removes an upload once it is no longer needed, and ignores URL sources', async () => {
    const spool = freshSpool();
    const path = join(spool.dir, 'a.png');
    writeFileSync(path, 'png');
    expect(await spool.isReadable(fileSource(path))).toBe(true);
    await spool.discard(fileSource(path));
    expect(existsSync(path)).toBe(false);
    expect(await spool.isReadable(fileSource(path))).toBe(false);
    await spool.discard({ kind: 'url', url: 'https://example.com/a.png' });
  });

  it('sweeps at start-up the uploads no unfinished task names', async () => {
    const spool = freshSpool();
    const live = join(spool.dir, 'live.png');
    const orphan = join(spool.dir, 'orphan.png');
    const finished = join(spool.dir, 'done.png');
    for (const path of [live, orphan, finished]) writeFileSync(path, 'png');
    await store.insert(queuedTask('live', { source: fileSource(live) }));
    await store.insert(queuedTask('done', { state: 'SUCCEEDED', source: fileSource(finished) }));
    await spool.sweepOrphans(store, 0);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(finished)).toBe(false);
  });

  it('in a cluster, leaves recent files alone: another process may be spooling them', async () => {
    const spool = freshSpool();
    const recent = join(spool.dir, 'recent.png');
    const old = join(spool.dir, 'old.png');
    writeFileSync(recent, 'png');
    writeFileSync(old, 'png');
    const hourAgo = (Date.now() - 60 * 60 * 1000) / 1000;
    utimesSync(old, hourAgo, hourAgo);
    await spool.sweepOrphans(store, 15 * 60 * 1000);
    expect(existsSync(recent)).toBe(true);
    expect(existsSync(old)).toBe(false);
  });
});
