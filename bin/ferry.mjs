#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { runEntry } from './entry.mjs';
import { heapFlags, heapLimitMiB } from './heap-limit.mjs';

const heap = heapLimitMiB(process.argv[2]);
if (heap !== undefined) {
  // V8 sizes its heap when it starts: run this command again in a node with the limit set, and
  // pass signals on (as a container's PID 1 this process would otherwise swallow SIGTERM).
  const child = spawn(process.execPath, [...heapFlags(heap), ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
} else {
  await runEntry('cli/main');
}
