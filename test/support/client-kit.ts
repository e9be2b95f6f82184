import { createGatewayClient, type GatewayClient } from '../../client/index.js';
import { eventually } from './harness.js';
import { type StackOptions, stackTest } from './stack-test.js';

/** `stackTest` with a kit `client` for its gateway, made once per file and disposed after it. */
export function kitTest(options: StackOptions) {
  return stackTest(options).extend<{ client: GatewayClient }>({
    client: [
      async ({ stack }, use) => {
        const client = createGatewayClient({ url: `${stack.url}/graphql` });
        try {
          await use(client);
        } finally {
          client.dispose();
        }
      },
      { scope: 'file' },
    ],
  });
}

/** `gateway_active_subscriptions` from /metrics: the live streams the gateway still holds open. */
export async function openStreams(gatewayUrl: string, headers: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${gatewayUrl}/metrics`, { headers })).text();
  return Number(/^gateway_active_subscriptions (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

/** Waits until the gateway holds no live stream: what a client that cleaned up leaves behind. */
export async function noOpenStreams(gatewayUrl: string, headers: Record<string, string> = {}): Promise<void> {
  await eventually(async () => ((await openStreams(gatewayUrl, headers)) === 0 ? true : undefined));
}

/** A PNG File, as a browser's file input would hand it over. */
export function pngFile(bytes: Buffer, name = 'product.png'): File {
  return new File([new Uint8Array(bytes)], name, { type: 'image/png' });
}

/**
 * A fetch whose first graphql-sse stream breaks off after its first event, like a dropped
 * connection — once `beforeDrop` has resolved (say, once the stream's token expired).
 */
export function fetchThatDropsTheFirstStream(beforeDrop: () => Promise<void> = async () => {}): {
  fetch: typeof fetch;
  streams: () => number;
} {
  let streams = 0;
  const dropping: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const url = String(input instanceof Request ? input.url : input);
    if (!url.endsWith('/graphql/stream') || init?.method === 'DELETE' || !response.body) return response;
    streams += 1;
    if (streams > 1) return response;
    const reader = response.body.getReader();
    const cut = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { value, done } = await reader.read();
        if (done) return controller.close();
        controller.enqueue(value);
        if (new TextDecoder().decode(value).includes('event: next')) {
          await beforeDrop();
          await reader.cancel();
          controller.error(new TypeError('network connection lost'));
        }
      },
    });
    return new Response(cut, { status: response.status, headers: response.headers });
  };
  return { fetch: dropping, streams: () => streams };
}
