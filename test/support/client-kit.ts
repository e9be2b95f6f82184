import { eventually } from './harness.js';

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
