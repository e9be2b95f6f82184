import { spawnScriptServer } from './script-server.js';

/**
 * Row 3's baseline: a bare `node:http` server in its own process that holds every request as an
 * SSE response, framed as the gateway frames its streams (`Connection: close`, no chunking), and
 * on `POST /broadcast` writes the posted text as one `next` event — encoded once — to all of them.
 * It does nothing per subscriber but the write, so the time from the broadcast request to the
 * last subscriber's arrival is what one Node process needs to reach N loopback sockets on this
 * machine: the floor the gateway's broadcast is compared with, side by side.
 */
export async function spawnBareBroadcaster(): Promise<{
  url: string;
  port: number;
  broadcast(text: string): Promise<void>;
  stop(): Promise<void>;
}> {
  const source = `
const http = require('node:http');
const streams = new Set();
const head = { 'content-type': 'text/event-stream', connection: 'close', 'cache-control': 'no-cache' };
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (req.url === '/broadcast') {
      const frame = Buffer.from('event: next\\ndata: ' + Buffer.concat(chunks).toString() + '\\n\\n');
      for (const stream of streams) stream.write(frame);
      res.writeHead(204).end();
      return;
    }
    res.removeHeader('transfer-encoding');
    res.writeHead(200, head);
    res.write(':\\n\\nevent: next\\ndata: {"data":null}\\n\\n');
    streams.add(res);
    res.once('close', () => streams.delete(res));
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write('PORT ' + server.address().port + '\\n'));
`;
  const server = await spawnScriptServer('bare broadcaster', source);
  const url = server.url;
  return {
    url,
    port: server.port,
    async broadcast(text) {
      const answer = await fetch(`${url}/broadcast`, { method: 'POST', body: text });
      await answer.arrayBuffer();
      if (answer.status !== 204) throw new Error(`bare broadcast answered ${answer.status}`);
    },
    stop: () => server.stop(),
  };
}
