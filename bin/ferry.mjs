#!/usr/bin/env node
// In a checkout (src/ present) run the TypeScript sources through tsx, so there is never a stale
// build; an installed package or the container image ships only dist/.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const { heapLimitMiB } = await import(pathToFileURL(join(root, 'bin', 'heap-limit.mjs')).href);
const heap = heapLimitMiB(process.argv[2]);
if (heap !== undefined) {
  // V8 sizes its heap when it starts: run this command again in a node with the limit set, and
  // pass signals on (as a container's PID 1 this process would otherwise swallow SIGTERM).
  const child = spawn(process.execPath, [`--max-old-space-size=${heap}`, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
} else {
  await start();
}

async function start() {
  const source = join(root, 'src', 'cli', 'main.ts');
  const compiled = join(root, 'dist', 'cli', 'main.js');
  if (existsSync(source) && process.env.FERRY_USE_DIST !== '1') {
    const { register } = await import('tsx/esm/api');
    register();
    await import(pathToFileURL(source).href);
  } else {
    await import(pathToFileURL(compiled).href);
  }
}
