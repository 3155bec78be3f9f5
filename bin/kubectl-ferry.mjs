#!/usr/bin/env node
// The kubectl plugin: `kubectl ferry ...` once this is on PATH as kubectl-ferry (npm link, npm i -g,
// or the package's bin). In a checkout it runs the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'cli', 'kubectl-ferry', 'main.ts');
const compiled = join(root, 'dist', 'cli', 'kubectl-ferry', 'main.js');
if (existsSync(source) && process.env.FERRY_USE_DIST !== '1') {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
} else {
  await import(pathToFileURL(compiled).href);
}
