import { DEFAULT_SCENE_TYPES } from '../../src/config/scene-types.js';
import { startLocalEngine } from '../../src/local-engine/index.js';
import { paddedPng, transparentPng } from '../../test/support/fixtures.js';
import { uploadOperation } from '../../test/support/harness.js';
import { type GatewayProcess, spawnGateway } from '../lib/gateway-process.js';
import { waitForTask } from '../lib/ops.js';
import { log, sleep } from '../lib/stats.js';

export interface UploadPhaseResult {
  clients: number;
  fileBytes: number;
  bytesInFlight: number;
  baselineRssBytes: number;
  peakRssBytes: number;
  growthBytes: number;
  ratio: number;
  /** Wall time from the first byte sent to the last task handed to the upstream. */
  seconds: number;
  accepted: number;
}

const UPLOAD = `mutation Upload($file: Upload!) {
  generateBackground(input: { image: { file: $file }, background: { prompt: "white marble, soft daylight" } }) { id state }
}`;

async function upload(url: string, png: Buffer): Promise<string | null> {
  const { body } = await uploadOperation(
    url,
    UPLOAD,
    { file: null },
    { variablePath: 'variables.file', bytes: png, name: 'product.png' },
  );
  const task = body.data?.generateBackground as { id: string } | undefined;
  if (!task) log(`upload refused: ${JSON.stringify(body).slice(0, 300)}`);
  return task?.id ?? null;
}

/**
 * Row 5: `clients` uploads of a `fileBytes` PNG at once; the gateway's peak RSS growth (sampled
 * every 5 ms and read from VmHWM after a reset) until every task was handed to the upstream,
 * which streams each spooled file out again.
 */
export async function runUploadPhase(options: {
  clients: number;
  fileBytes: number;
}): Promise<UploadPhaseResult> {
  const engine = await startLocalEngine({ durationMs: 1e9, sceneTypes: DEFAULT_SCENE_TYPES });
  let gateway: GatewayProcess | null = null;
  try {
    gateway = await spawnGateway({ upstreamUrl: engine.url, apiKey: engine.apiKey, inspect: true });
    const big = await paddedPng(options.fileBytes);
    // Warm-up: one upload of each size, so first-use allocations are not counted.
    const small = await upload(gateway.url, await transparentPng(600, 400));
    const warm = await upload(gateway.url, big);
    for (const id of [small, warm]) if (id) await waitForTask(gateway, id, (t) => t.upstreamTaskId !== null);
    await sleep(500);
    await gateway.collectGarbage();
    await sleep(500);
    const baseline = gateway.rss();
    const resetWorked = gateway.resetPeak();
    let peak = baseline;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, gateway.rss());
        await sleep(5);
      }
    })();
    const started = Date.now();
    log(`upload: ${options.clients} clients × ${(big.length / 1048576).toFixed(1)} MiB`);
    const ids = await Promise.all(
      Array.from({ length: options.clients }, () => upload(gateway?.url as string, big)),
    );
    const accepted = ids.filter((id): id is string => id !== null);
    for (const id of accepted) await waitForTask(gateway, id, (t) => t.upstreamTaskId !== null, 60_000, 50);
    const seconds = (Date.now() - started) / 1000;
    await sleep(200);
    sampling = false;
    await sampler;
    if (resetWorked) peak = Math.max(peak, gateway.peakRss());
    const growth = peak - baseline;
    const inFlight = options.clients * big.length;
    log(
      `upload: peak RSS growth ${(growth / 1048576).toFixed(1)} MiB for ${(inFlight / 1048576).toFixed(0)} MiB in flight (${(growth / inFlight).toFixed(2)}×)`,
    );
    return {
      clients: options.clients,
      fileBytes: big.length,
      bytesInFlight: inFlight,
      baselineRssBytes: baseline,
      peakRssBytes: peak,
      growthBytes: growth,
      ratio: growth / inFlight,
      seconds,
      accepted: accepted.length,
    };
  } finally {
    await gateway?.stop();
    await engine.close();
  }
}
