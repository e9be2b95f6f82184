import { type ChildProcess, spawn } from 'node:child_process';

/** A baseline server the bench runs as its own process, so its CPU and RSS are its own. */
export interface ScriptServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Runs `source` with this Node binary (`node -e`) and waits for the `PORT <n>` line it prints once
 * it listens on 127.0.0.1. The bench's baselines (the bare server of row 4, the bare broadcaster
 * of row 3) are written this way: a few lines of plain node:http, nothing of the gateway's.
 */
export async function spawnScriptServer(
  name: string,
  source: string,
  env: Record<string, string> = {},
): Promise<ScriptServer> {
  const child: ChildProcess = spawn(process.execPath, ['-e', source], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /PORT (\d+)/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
