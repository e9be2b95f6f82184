import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A PicWish stand-in on a loopback port that answers each call the way a test scripts it. */
export interface FakePicWish {
  readonly url: string;
  /** Every call's method, path and `x-api-key`, in order. */
  readonly calls: { method: string; path: string; key: string | undefined }[];
  close(): Promise<void>;
}

/** How the fake answers one call; it may write anything, or nothing at all. */
export type FakeAnswer = (req: IncomingMessage, res: ServerResponse) => void;

/** Answers JSON with a status. */
export function json(status: number, body: unknown): FakeAnswer {
  return (_req, res) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
}

/** Starts the fake: `create` answers POSTs, `poll` answers GETs of a task. */
export async function startFakePicWish(answers: {
  create: FakeAnswer;
  poll?: FakeAnswer;
}): Promise<FakePicWish> {
  const calls: FakePicWish['calls'] = [];
  const open = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    calls.push({
      method: req.method ?? '',
      path: req.url ?? '',
      key: req.headers['x-api-key'] as string | undefined,
    });
    open.add(res);
    res.once('close', () => open.delete(res));
    req.resume();
    req.once('end', () =>
      (req.method === 'POST' ? answers.create : (answers.poll ?? answers.create))(req, res),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
