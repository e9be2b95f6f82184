import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RequestTimeouts, requestTimeLimits, SlowBodies } from '../http/slow-bodies.js';
import { answerWhileStarting } from '../http/starting.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A listening server and the one switch from its start-up answers to the gateway's routes. */
export interface Listener {
  readonly server: Server;
  /** Where it listens, e.g. http://127.0.0.1:4000 (the real port when 0 was asked for). */
  readonly url: string;
  /** Hands every request from now on to `handler`. */
  serve(handler: Handler): void;
}

/**
 * Opens the port first, because the signer needs the real URL before the routes can be built,
 * but with a handler attached from the first connection on: until `serve` is called every request
 * gets the start-up answers (http/starting.ts) instead of hanging unanswered.
 */
export async function listen(port: number, host: string, timeouts: RequestTimeouts): Promise<Listener> {
  let current: Handler = answerWhileStarting;
  const slowBodies = new SlowBodies(timeouts);
  const server = createServer(requestTimeLimits(timeouts), (req, res) => {
    slowBodies.watch(req, () => res.headersSent);
    current(req, res);
  });
  server.once('close', () => slowBodies.close());
  server.listen(port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const printedHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${printedHost}:${address.port}`,
    serve: (handler) => {
      current = handler;
    },
  };
}
