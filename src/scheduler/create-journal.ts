import { text } from 'node:stream/consumers';
import type { BlobStore } from '../results/blob-store.js';

/** Where a task's journal entry lives: beside nothing else, so removing it touches no result. */
function entryPrefix(taskId: string): string {
  return `journal/${taskId}/`;
}

/**
 * The upstream id of a create PicWish accepted, kept in the blob store until the task's record
 * holds it. The create is charged, so losing its id loses a paid task: if the store write right
 * after the create fails (PostgreSQL restarting, say), the task is left marked `submitInFlight`,
 * which alone would fail it as UPSTREAM_OUTCOME_UNKNOWN. With the id journaled, whichever
 * instance takes the task next records it and polls instead (`TaskSteps.take`). The blob store
 * (S3 in a cluster, files under DATA_DIR otherwise) does not depend on the task store, which is
 * what makes it a journal for that store's failures.
 */
export class CreateJournal {
  constructor(private readonly blobs: Pick<BlobStore, 'put' | 'stat' | 'read' | 'deletePrefix'>) {}

  /** PicWish created `upstreamTaskId` for task `taskId`; kept until `settle`. */
  async record(taskId: string, upstreamTaskId: string): Promise<void> {
    await this.blobs.put(
      `${entryPrefix(taskId)}create.txt`,
      Buffer.from(upstreamTaskId, 'utf8'),
      'text/plain',
    );
  }

  /** The upstream id journaled for `taskId`, or null when there is none. */
  async find(taskId: string): Promise<string | null> {
    const key = `${entryPrefix(taskId)}create.txt`;
    if ((await this.blobs.stat(key)) === null) return null;
    const id = (await text(this.blobs.read(key))).trim();
    return id === '' ? null : id;
  }

  /** The task's record holds the id now (or the task is over): the entry goes. */
  async settle(taskId: string): Promise<void> {
    await this.blobs.deletePrefix(entryPrefix(taskId));
  }
}
