import { describe, expect, it } from 'vitest';
import { taskBlobPrefix, taskBlobPrefixOf } from '../../../src/results/blob-store.js';

describe('taskBlobPrefixOf', () => {
  it('names the task folder of a result or rendition key, and nothing for other keys', () => {
    expect(taskBlobPrefixOf('results/t-1/0-abc.png')).toBe(taskBlobPrefix('t-1'));
    expect(taskBlobPrefixOf('results/t-1/0-abc.png.r-w64-h0.webp')).toBe('results/t-1/');
    expect(taskBlobPrefixOf('results/t-1')).toBeNull();
    expect(taskBlobPrefixOf('cutouts/t-1/a.png')).toBeNull();
  });
});
