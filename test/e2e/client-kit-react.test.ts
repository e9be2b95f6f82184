import { Window } from 'happy-dom';
import { createElement, useEffect } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { GatewayClient } from '../../client/index.js';
import {
  GatewayProvider,
  type GenerateState,
  type TaskView,
  useBackgroundTask,
  useGenerateBackground,
} from '../../client/react.js';
import { kitTest, noOpenStreams, openStreams, pngFile } from '../support/client-kit.js';
import { generateUpload, transparentPng } from '../support/fixtures.js';
import { eventually, type TestStack, uploadOperation } from '../support/harness.js';

/**
 * The React hooks rendered by react-dom into a happy-dom document (only the DOM is swapped in:
 * fetch stays Node's, talking to a real gateway). 0.5 QPS keeps a second task QUEUED for a while.
 */

const it = kitTest({ engine: { durationMs: 300 }, env: { PICWISH_QPS: '0.5' } });

let png: Buffer;
const window = new Window({ url: 'http://127.0.0.1/' });

beforeAll(async () => {
  Object.assign(globalThis, { window, document: window.document });
  // Node 22 has a global `navigator` with only a getter: replace it by definition, not assignment.
  Object.defineProperty(globalThis, 'navigator', {
    value: window.navigator,
    configurable: true,
    writable: true,
  });
  png = await transparentPng(400, 300);
}, 60_000);

afterAll(async () => {
  await window.happyDOM.close();
});

async function createTask(stack: TestStack): Promise<string> {
  const answer = await uploadOperation(
    stack.url,
    generateUpload('id'),
    { file: null, prompt: 'a sunny beach' },
    { variablePath: 'variables.file', bytes: png },
  );
  return (answer.body.data as { generateBackground: { id: string } }).generateBackground.id;
}

/** Shows a task and records every view `useBackgroundTask` rendered. */
function TaskProbe(props: { id: string; views: TaskView[] }) {
  const view = useBackgroundTask(props.id);
  useEffect(() => void props.views.push(view), [props.views, view]);
  return createElement('output', null, `${view.state ?? 'LOADING'} ${view.progress}%`);
}

/** Hands `useGenerateBackground`'s state to the test on every render. */
function GenerateProbe(props: { onState: (state: GenerateState) => void }) {
  props.onState(useGenerateBackground());
  return null;
}

function render(client: GatewayClient, element: ReturnType<typeof createElement>): Root {
  const root = createRoot(document.createElement('div') as unknown as Element);
  root.render(createElement(GatewayProvider, { client }, element));
  return root;
}

function renderTask(client: GatewayClient, id: string): { root: Root; views: TaskView[] } {
  const views: TaskView[] = [];
  return { root: render(client, createElement(TaskProbe, { id, views })), views };
}

describe('useBackgroundTask', () => {
  it('renders a task from QUEUED (with its queue position) to SUCCEEDED with images, then unmounts with no stream left', async ({
    stack,
    client,
  }) => {
    await createTask(stack); // takes the budget's next call, so the next task waits in the queue
    const id = await createTask(stack);
    const { root, views } = renderTask(client, id);
    const done = await eventually(async () => views.find((view) => view.state === 'SUCCEEDED'), 60_000);
    const states = views.map((view) => view.state).filter((s, i, all) => s !== all[i - 1]);
    expect(states[0]).toBeNull();
    expect(states[1]).toBe('QUEUED');
    expect(states.at(-1)).toBe('SUCCEEDED');
    expect(views.find((view) => view.state === 'QUEUED')?.queuePosition).toBeGreaterThanOrEqual(1);
    expect(done.progress).toBe(100);
    expect(done.images).toHaveLength(2);
    expect(done.error).toBeNull();
    root.unmount();
    await noOpenStreams(stack.url);
  });

  it('unmounting while the task is still queued closes its stream on the gateway', async ({
    stack,
    client,
  }) => {
    await createTask(stack);
    const id = await createTask(stack);
    const { root, views } = renderTask(client, id);
    await eventually(async () => views.find((view) => view.state === 'QUEUED'));
    expect(await openStreams(stack.url)).toBe(1);
    root.unmount();
    await noOpenStreams(stack.url);
    expect((await client.task(id))?.state).not.toBe('CANCELLED');
    await client.cancel(id);
  });
});

describe('useGenerateBackground', () => {
  it('generates from a File and exposes the final task', async ({ client }) => {
    let state: GenerateState | null = null;
    const root = render(
      client,
      createElement(GenerateProbe, {
        onState: (next) => {
          state = next;
        },
      }),
    );
    await eventually(async () => state ?? undefined);
    const task = await state!.generate({ image: pngFile(png), background: { prompt: 'a sunny beach' } });
    expect(task.state).toBe('SUCCEEDED');
    await eventually(async () => (state!.state === 'SUCCEEDED' && !state!.running ? true : undefined));
    expect(state!.images).toHaveLength(2);
    root.unmount();
  });
});

describe('GatewayProvider with url and token', () => {
  it('makes its own client, sends the token on the upload and the stream, and leaves no stream open after unmount', async ({
    stack,
  }) => {
    const tokens: string[] = [];
    const seen: (string | null)[] = [];
    // The gateway here needs no key: the test sees the header through its own fetch.
    const spy: typeof fetch = (input, init) => {
      seen.push(new Headers(init?.headers).get('authorization'));
      return fetch(input, init);
    };
    let state: GenerateState | null = null;
    const root = createRoot(document.createElement('div') as unknown as Element);
    root.render(
      createElement(
        GatewayProvider,
        {
          url: `${stack.url}/graphql`,
          token: async () => {
            tokens.push('session-1');
            return 'session-1';
          },
          fetch: spy,
        },
        createElement(GenerateProbe, {
          onState: (next) => {
            state = next;
          },
        }),
      ),
    );
    await eventually(async () => state ?? undefined);
    const task = await state!.generate({
      image: pngFile(png),
      background: { prompt: 'a sunny beach' },
      batchSize: 1,
    });
    expect(task.state).toBe('SUCCEEDED');
    expect(tokens).toHaveLength(1);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(new Set(seen)).toEqual(new Set(['Bearer session-1']));
    root.unmount();
    await noOpenStreams(stack.url);
  });
});
