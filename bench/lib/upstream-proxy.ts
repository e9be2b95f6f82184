import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

/** One poll answer as it left for the gateway. */
export interface PollAnswer {
  upstreamTaskId: string;
  /** performance.now() when the answer was handed to the socket. */
  at: number;
  progress: number;
  state: number;
}

const POLL_PATH = /^\/api\/tasks\/visual\/background\/([^/?]+)/;

/**
 * A pass-through in front of the local engine that notes when each poll answer left, so the
 * broadcast benchmark can measure from "the upstream answered" to "the last subscriber got it",
 * all on the bench process's clock. It also serves the source PNG that URL tasks point at.
 */
export async function startUpstreamProxy(engineUrl: string, sourcePng: Buffer) {
  const pool = new Pool(engineUrl, { connections: 64 });
  const polls: PollAnswer[] = [];
  const server = createServer(async (req, res) => {
    if (req.url === '/source.png') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': sourcePng.length }).end(sourcePng);
      return;
    }
    const headers: IncomingHttpHeaders = { ...req.headers };
    delete headers.host;
    delete headers.connection;
    delete headers['keep-alive'];
    try {
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
      const answer = await pool.request({
        method: req.method as 'GET',
        path: req.url ?? '/',
        headers: headers as Record<string, string>,
        body: hasBody ? req : null,
      });
      const body = Buffer.from(await answer.body.arrayBuffer());
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (
          value !== undefined &&
          name !== 'connection' &&
          name !== 'keep-alive' &&
          name !== 'transfer-encoding'
        )
          out[name] = value;
      }
      out['content-length'] = String(body.length);
      res.writeHead(answer.statusCode, out);
      res.end(body);
      const match = req.method === 'GET' ? POLL_PATH.exec(req.url ?? '') : null;
      if (match && answer.statusCode === 200) {
        try {
          const parsed = JSON.parse(body.toString()) as { data?: { progress?: number; state?: number } };
          polls.push({
            upstreamTaskId: decodeURIComponent(match[1] as string),
            at: performance.now(),
            progress: parsed.data?.progress ?? -1,
            state: parsed.data?.state ?? -99,
          });
        } catch {
          // Not JSON: not a poll answer worth recording.
        }
      }
    } catch {
      res.destroy();
    }
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    polls,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.close();
    },
  };
}
