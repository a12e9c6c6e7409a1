import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { waitFor } from './wait.js';

/** A free TCP port on 127.0.0.1 (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

export interface ServiceProcess {
  child: ChildProcess;
  /** http://127.0.0.1:<port>: the API */
  url: string;
  /** http://127.0.0.1:<management port>: /health/live, /health/ready, /metrics */
  managementUrl: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Waits until /health/ready answers 200; fails at once, with the output, if the process dies. */
  ready(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited within the deadline; resolves with the exit code. */
  stop(deadlineMs?: number): Promise<number | null>;
}

/**
 * Starts a built service (`node <main> [args]`) as a deployment runs it: only the given
 * environment plus PATH, HOST=127.0.0.1, and a free PORT and MANAGEMENT_PORT unless given.
 */
export async function startServiceProcess(
  main: string,
  env: Record<string, string>,
  args: string[] = [],
): Promise<ServiceProcess> {
  const port = env['PORT'] ?? String(await freePort());
  const managementPort = env['MANAGEMENT_PORT'] ?? String(await freePort());
  const child = spawn(process.execPath, [main, ...args], {
    env: {
      PATH: process.env['PATH'] ?? '',
      HOST: '127.0.0.1',
      ...env,
      PORT: port,
      MANAGEMENT_PORT: managementPort,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = `http://127.0.0.1:${port}`;
  const managementUrl = `http://127.0.0.1:${managementPort}`;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  return {
    child,
    url,
    managementUrl,
    output: () => out,
    exited,
    ready: async (timeoutMs = 60_000) => {
      const died = exited.then((code) => {
        throw new Error(
          `the process exited with ${code} before it was ready:\n${out.slice(-2000)}`,
        );
      });
      await Promise.race([
        died,
        waitFor(
          async () =>
            (await fetch(`${managementUrl}/health/ready`).catch(() => undefined))?.status === 200,
          { what: `${main} on port ${port} to be ready`, timeoutMs },
        ),
      ]);
    },
    stop: async (deadlineMs = 20_000) => {
      if (exitCode !== undefined) return exitCode;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([
        exited,
        new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), deadlineMs))),
      ]);
      clearTimeout(timer);
      if (code !== 'late') return code;
      child.kill('SIGKILL');
      return exited;
    },
  };
}
