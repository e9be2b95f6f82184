import { describe, expect, it } from 'vitest';
import {
  parseCreatedTaskId,
  parseImage,
  parseSegmentation,
  parseTaskStatus,
  parseTimestamp,
} from '../../../src/upstream/wire.js';

describe('PicWish wire parsing', () => {
  it('reads the documented sample answer, with Unix-second timestamps', () => {
    const status = parseTaskStatus(
      {
        status: 200,
        data: {
          task_id: 'abc',
          created_at: 1698387304,
          processed_at: '1698387305',
          completed_at: 1698387312,
          image_1: 'https://cdn.example/1.png',
          image_2: '',
          progress: 100,
          state: 1,
          return_type: 1,
          state_detail: 'Complete',
          time_elapsed: 7450.5,
        },
      },
      'abc',
    );
    expect(status).toEqual({
      taskId: 'abc',
      state: 1,
      stateDetail: 'Complete',
      progress: 100,
      createdAt: 1698387304000,
      processedAt: 1698387305000,
      completedAt: 1698387312000,
      timeElapsedMs: 7451,
      images: [{ kind: 'url', url: 'https://cdn.example/1.png' }],
    });
  });

  it('accepts image_3, image_4 and image, and tells base64 from URLs', () => {
    const status = parseTaskStatus(
      {
        data: {
          state: 1,
          image_3: 'iVBORw0KGgo=',
          image_4: 'data:image/png;base64,iVBORw0KGgo=',
          image: 'http://x/y.png',
        },
      },
      't',
    );
    expect(status?.images).toEqual([
      { kind: 'base64', data: 'iVBORw0KGgo=' },
      { kind: 'base64', data: 'iVBORw0KGgo=' },
      { kind: 'url', url: 'http://x/y.png' },
    ]);
  });

  it('treats zero, blank and garbage timestamps as absent, and keeps milliseconds as they are', () => {
    expect(parseTimestamp(0)).toBeNull();
    expect(parseTimestamp('')).toBeNull();
    expect(parseTimestamp({})).toBeNull();
    expect(parseTimestamp(1698387304123)).toBe(1698387304123);
    expect(parseTimestamp('2026-11-25T10:00:00Z')).toBe(Date.parse('2026-11-25T10:00:00Z'));
  });

  it('refuses answers without a usable state or task id instead of guessing', () => {
    expect(parseTaskStatus({ data: { state: 'soon' } }, 't')).toBeNull();
    expect(parseTaskStatus('<html>', 't')).toBeNull();
    expect(parseTaskStatus({ data: null }, 't')).toBeNull();
    expect(parseCreatedTaskId({ data: {} })).toBeNull();
    expect(parseCreatedTaskId({ data: { task_id: ' 9f ' } })).toBe('9f');
    expect(parseImage('not base64 !')).toBeNull();
  });

  it('clamps progress into 0..100', () => {
    expect(parseTaskStatus({ data: { state: 4, progress: 250 } }, 't')?.progress).toBe(100);
    expect(parseTaskStatus({ data: { state: 4, progress: -3 } }, 't')?.progress).toBe(0);
  });
});

describe('PicWish segmentation answers (#14)', () => {
  it('reads a finished cutout as inline base64 or as a link', () => {
    expect(parseSegmentation({ status: 200, data: { state: 1, image: 'iVBORw0KGgo=' } })).toEqual({
      done: true,
      image: { kind: 'base64', data: 'iVBORw0KGgo=' },
    });
    expect(parseSegmentation({ data: { state: '1', image: 'https://cdn.example/c.png' } })).toEqual({
      done: true,
      image: { kind: 'url', url: 'https://cdn.example/c.png' },
    });
  });

  it('reads a failure state with PicWish’s words from state_detail or err_message', () => {
    expect(parseSegmentation({ data: { state: -7, state_detail: 'invalid image' } })).toEqual({
      done: false,
      state: -7,
      detail: 'invalid image',
    });
    expect(parseSegmentation({ data: { state: -1, err_message: 'no subject' } })).toMatchObject({
      detail: 'no subject',
    });
    expect(parseSegmentation({ data: { state: -1 } })).toMatchObject({ detail: null });
  });

  it('gives nothing for an answer that is neither: still working, done without an image, no state', () => {
    expect(parseSegmentation({ data: { state: 4, task_id: 't' } })).toBeNull();
    expect(parseSegmentation({ data: { state: 1, image: '' } })).toBeNull();
    expect(parseSegmentation({ data: {} })).toBeNull();
    expect(parseSegmentation('oops')).toBeNull();
  });
});
