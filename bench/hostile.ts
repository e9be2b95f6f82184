/**
 * Hostile-tenant benchmark (#27, not a test): two tenants on one gateway. For each attack of
 * bench/lib/hostile-attacks.ts a fresh gateway process (the production build, production tenant
 * limits) is started; tenant alpha runs the attack while tenant beta, in loops of its own, reads
 * its finished task (`backgroundTask`), fetches that task's result from its `/files` link and
 * uploads a small PNG (`generateBackground`). Per attack: beta's p50 and max latency per probe,
 * its failed probes, the gateway's RSS idle (after a forced GC) and at its peak during the attack
 * (VmRSS every 100 ms, and VmHWM), and what alpha got. Done when (#27): every one of beta's
 * answers within 2 s, none failed, and the peak within 512 MB of idle.
 *
 * Everything is on loopback: the local engine (behind the test suite's PicWish double), the image
 * URLs' server, the webhook receiver, the gateway.
 *
 * Run: `npx tsx bench/hostile.ts [--quick] [--write] [--only=<attack name part>,…]`; `--write`
 * puts the table into docs/operations.md. The exit code is 1 when an attack broke a bound.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { transparentPng } from '../test/support/fixtures.js';
import { startPicWishDouble } from '../test/support/picwish-double.js';
import { TENANTS, TWO_TENANT_KEYS } from '../test/support/tenancy.js';
import { type GatewayProcess, spawnGateway } from './lib/gateway-process.js';
import { type AttackContext, startImageServer } from './lib/hostile-attack-kit.js';
import { ATTACKS } from './lib/hostile-attacks.js';
import {
  PROBE_EVERY_MS,
  PROBE_KINDS,
  type ProbeKind,
  type ProbeSummary,
  startProbes,
  taskOf,
  UPLOAD_PACE,
  warmUp,
} from './lib/probes.js';
import { log, sleep } from './lib/stats.js';

export interface HostileBenchOptions {
  /** Smaller attacks (tens of requests), for development. */
  readonly quick?: boolean;
  /** Runs only the attacks whose name contains one of these (case-insensitive). */
  readonly only?: readonly string[];
  /** Prints the table (default true). */
  readonly print?: boolean;
}

export interface AttackResult {
  readonly attack: string;
  /** What alpha got, in a line. */
  readonly outcome: string;
  readonly attackMs: number;
  readonly probes: Record<ProbeKind, ProbeSummary>;
  readonly idleRssBytes: number;
  readonly peakRssBytes: number;
  /** What broke a bound, empty when none did. */
  readonly broken: readonly string[];
}

export interface HostileBenchResult {
  readonly quick: boolean;
  readonly attacks: readonly AttackResult[];
  readonly ok: boolean;
  /** The markdown table. */
  readonly table: string;
}

/** The bounds of #27's "Done when". */
export const BOUNDS = { answerMs: 2_000, rssGrowthBytes: 512 * 1024 * 1024 } as const;

/**
 * The tenant limits at their production defaults (spawnGateway lifts them for its one-tenant
 * benchmarks): what an attacker runs into is part of what is measured.
 */
const ENV = {
  GATEWAY_API_KEYS: TWO_TENANT_KEYS,
  TENANT_RATE_LIMIT_PER_MINUTE: '60',
  TENANT_MAX_ACTIVE_TASKS: '20',
  SSE_RESERVATIONS_PER_TENANT: '100',
  SSE_STREAMS_PER_TENANT: '1000',
  IMAGE_URL_ALLOW_PRIVATE: 'true',
  WEBHOOK_URL_ALLOW_PRIVATE: 'true',
};

/** RSS after a full GC and a short settle: the idle figure the peak is compared with. */
async function idleRss(gateway: GatewayProcess): Promise<number> {
  await sleep(500);
  await gateway.collectGarbage();
  await sleep(500);
  return gateway.rss();
}

/** Samples VmRSS every 100 ms until stopped; VmHWM (reset at the start) catches what falls between. */
function sampleRss(gateway: GatewayProcess): { stop(): number } {
  const hwm = gateway.resetPeak();
  let peak = gateway.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, gateway.rss());
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, gateway.rss());
      return hwm ? Math.max(peak, gateway.peakRss()) : peak;
    },
  };
}

export async function runHostileBench(options: HostileBenchOptions = {}): Promise<HostileBenchResult> {
  const quick = options.quick ?? false;
  const only = options.only?.map((name) => name.toLowerCase());
  const attacks = ATTACKS.filter(
    (attack) => !only || only.some((part) => attack.name.toLowerCase().includes(part)),
  );
  const engine = await startPicWishDouble({ durationMs: 500 });
  const png = await transparentPng(400, 300);
  const images = await startImageServer(png);
  const results: AttackResult[] = [];
  try {
    for (const attack of attacks) {
      log(`hostile: ${attack.name}`);
      const gateway = await spawnGateway({
        upstreamUrl: engine.url,
        apiKey: engine.apiKey,
        inspect: true,
        env: { ...ENV, ...attack.env?.(quick) },
      });
      try {
        const ctx: AttackContext = { gateway, engine, images, quick };
        const beta = await taskOf(gateway.url, TENANTS.beta, png);
        if (!beta.link) throw new Error("beta's task has no result link");
        const target = { url: gateway.url, key: TENANTS.beta, taskId: beta.id, fileUrl: beta.link, png };
        const run = await attack.prepare(ctx);
        await warmUp(target);
        const idle = await idleRss(gateway);
        const rss = sampleRss(gateway);
        const probes = startProbes(target);
        const started = Date.now();
        const outcome = await run();
        const attackMs = Date.now() - started;
        const summaries = await probes.stop();
        const peak = rss.stop();
        const result = {
          attack: attack.name,
          outcome,
          attackMs,
          probes: summaries,
          idleRssBytes: idle,
          peakRssBytes: peak,
        };
        results.push({ ...result, broken: broken(result) });
        log(`hostile: ${attack.name}: ${outcome}`);
      } finally {
        await gateway.stop();
      }
    }
  } finally {
    await images.close();
    await engine.close();
  }
  const table = renderTable(results);
  if (options.print ?? true) console.log(table);
  return { quick, attacks: results, ok: results.every((r) => r.broken.length === 0), table };
}

function broken(r: Omit<AttackResult, 'broken'>): string[] {
  const out: string[] = [];
  for (const kind of PROBE_KINDS) {
    const p = r.probes[kind];
    if (p.count === 0) out.push(`no ${kind} probe`);
    if (p.maxMs > BOUNDS.answerMs) out.push(`${kind} ${ms(p.maxMs)}`);
    if (p.failures > 0) out.push(`${kind} failed`);
  }
  if (r.peakRssBytes - r.idleRssBytes > BOUNDS.rssGrowthBytes) out.push('RSS');
  return out;
}

const ms = (value: number): string =>
  value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
const mib = (bytes: number): string => `${Math.round(bytes / 1048576)}`;

function probeCell(p: ProbeSummary): string {
  const failed = p.failures > 0 ? `; **${p.failures} failed** (${p.firstFailure})` : '';
  return `${ms(p.p50Ms)} / ${ms(p.maxMs)} (${p.count})${failed}`;
}

function renderTable(results: readonly AttackResult[]): string {
  const rows = results.map((r) =>
    [
      r.attack,
      r.outcome.replaceAll('|', '\\|'),
      probeCell(r.probes.query),
      probeCell(r.probes.file),
      probeCell(r.probes.upload),
      `${mib(r.idleRssBytes)} → ${mib(r.peakRssBytes)} (+${mib(r.peakRssBytes - r.idleRssBytes)})`,
      r.broken.length === 0 ? 'yes' : `**no**: ${r.broken.join(', ')}`,
    ].join(' | '),
  );
  return [
    "| Attack (tenant alpha, for its duration) | What alpha got | Beta's `backgroundTask` p50 / max (probes) | Beta's `/files` GET | Beta's upload | Gateway RSS, MiB: idle → peak | Within bounds |",
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row} |`),
  ].join('\n');
}

export const DOC_HEADING = "### Measured: one tenant's attack, the other tenant's answers";
const SECTION = '## Limits against hostile clients and upstreams';

/** The subsection `--write` puts at the end of the hostile-limits section of docs/operations.md. */
function subsection(result: HostileBenchResult): string {
  const git = (args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
  const run = [
    new Date().toISOString().slice(0, 10),
    `commit ${git(['rev-parse', '--short', 'HEAD'])}${dirty ? ' (with uncommitted changes)' : ''}`,
    `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}`,
    `node ${process.version}`,
    `load ${loadavg()[0]?.toFixed(2)} at the end`,
    result.quick ? '`--quick` (smaller attacks)' : 'full size',
  ].join(', ');
  const text = `\`npx tsx bench/hostile.ts --write\` (not a test; \`--quick\` for smaller attacks) starts a fresh gateway process per attack — the production build, two tenants, the tenant limits at their defaults, the local engine behind it and everything else on loopback — and runs the attack from tenant alpha while tenant beta, on connections of its own, reads its finished task every ${PROBE_EVERY_MS.query} ms, fetches its result's \`/files\` link every ${PROBE_EVERY_MS.file} ms and uploads a 400×300 PNG every ${UPLOAD_PACE.everyMs / 1000} s (every ${UPLOAD_PACE.thenEveryMs / 1000} s after ${UPLOAD_PACE.first}, to stay within its 60 per minute; in parentheses: how many of each it made). The bounds (#27): each of beta's answers within ${BOUNDS.answerMs / 1000} s and none failed, and the gateway's peak RSS (VmRSS every 100 ms, and VmHWM) within ${mib(BOUNDS.rssGrowthBytes)} MiB of idle (after a forced GC, before the attack). Latencies are beta's, seen from the bench process, which also runs the attack. Run: ${run}.`;
  return `${DOC_HEADING}\n\n${wrap(text, 100)}\n\n${result.table}\n`;
}

/** Breaks `text` into lines of at most `width` characters at spaces. */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line].join('\n');
}

/** Replaces the subsection in `doc` (or adds it at the end of the hostile-limits section). */
export function withMeasurements(doc: string, section: string): string {
  const start = doc.indexOf(SECTION);
  if (start < 0) throw new Error(`docs/operations.md has no "${SECTION}"`);
  const nextSection = doc.indexOf('\n## ', start + SECTION.length);
  const end = nextSection < 0 ? doc.length : nextSection + 1;
  const existing = doc.indexOf(DOC_HEADING, start);
  const from = existing >= 0 && existing < end ? existing : end;
  return `${doc.slice(0, from).trimEnd()}\n\n${section}\n${doc.slice(end)}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const only = args
    .find((arg) => arg.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',');
  runHostileBench({ quick: args.includes('--quick'), ...(only ? { only } : {}) }).then(
    (result) => {
      if (args.includes('--write')) {
        const path = 'docs/operations.md';
        writeFileSync(path, withMeasurements(readFileSync(path, 'utf8'), subsection(result)));
        log(`hostile: wrote ${path}`);
      }
      process.exit(result.ok ? 0 : 1);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
