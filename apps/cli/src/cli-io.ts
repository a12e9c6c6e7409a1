import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { UsageError } from './cli-errors.js';

/** Where the CLI writes: process.stdout/stderr in main.ts, buffers in tests. */
export interface Output {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Everything the CLI touches outside itself, so tests run it without a process. */
export interface CliIo {
  stdout: Output;
  stderr: Output;
  /** Read by `import-openapi -`. */
  stdin?: AsyncIterable<string | Uint8Array>;
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
  /** Relative file arguments resolve against this; default process.cwd(). */
  cwd?: string;
}

/** A file argument's text (`-` is standard input) and how messages name it. */
export async function readDocument(
  file: string,
  io: CliIo,
): Promise<{ text: string; label: string }> {
  if (file === '-') {
    if (!io.stdin) throw new UsageError('no standard input to read the document from');
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin)
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    return { text: Buffer.concat(chunks).toString('utf8'), label: 'standard input' };
  }
  const path = resolve(io.cwd ?? process.cwd(), file);
  try {
    return { text: await readFile(path, 'utf8'), label: basename(file) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (error as Error).message;
    throw new UsageError(`cannot read ${file}: ${why}`);
  }
}

/**
 * A one-line status on stderr, redrawn in place, only when stderr is a terminal (never in
 * logs or pipes); cleared when the work ends.
 */
export function progress(io: CliIo, message: () => string): { update(): void; stop(): void } {
  if (!io.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const started = Date.now();
  const draw = () => {
    const seconds = Math.floor((Date.now() - started) / 1000);
    io.stderr.write(`\r${message()}${seconds >= 1 ? ` ${seconds} s` : ''}\x1b[K`);
  };
  draw();
  const timer = setInterval(draw, 1000);
  timer.unref();
  return {
    update: draw,
    stop: () => {
      clearInterval(timer);
      io.stderr.write('\r\x1b[K');
    },
  };
}
