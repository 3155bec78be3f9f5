#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { runEntry } from './entry.mjs';
import { heapFlags, heapLimitMiB } from './heap-limit.mjs';
import { cacheModuleFormats } from './module-format-cache.mjs';

const heap = heapLimitMiB(process.argv[2]);
if (heap !== undefined) {
  // V8 sizes its heap when it starts: run this command again in a node with the limit set, and
  // pass signals on (as a container's PID 1 this process would otherwise swallow SIGTERM).
  const child = spawn(process.execPath, [...heapFlags(heap), ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  // A child ended by a signal: the shell's status for it (128 + its number, 143 for SIGTERM).
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)));
} else {
  cacheModuleFormats();
  await runEntry('cli/main');
}
