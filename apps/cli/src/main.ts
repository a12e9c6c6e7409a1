#!/usr/bin/env node
import { runCli } from './program.js';

// `toolbus tools list | head` closes the pipe early; that is not an error worth a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
// Setting the code instead of calling process.exit() lets stdout drain into a slow pipe first.
process.exitCode = code;
