import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, waitFor } from '@toolbus/testing';

/** A redis-server of the test's own, on a free port, without persistence: to kill at will. */
export interface OwnRedis {
  url: string;
  start(): Promise<void>;
  kill(): Promise<void>;
}

export async function ownRedis(
  binary = process.env['REDIS_SERVER'] ?? 'redis-server',
): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';
  return {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      output = '';
      const started = spawn(
        binary,
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child = started;
      started.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      started.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      await waitFor(() => output.includes('Ready to accept connections'), {
        what: `redis-server on port ${port}`,
      });
    },
    async kill() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await exited;
    },
  };
}
