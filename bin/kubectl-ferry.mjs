#!/usr/bin/env node
// The kubectl plugin: `kubectl ferry ...` once this is on PATH as kubectl-ferry (npm link, npm i -g,
// or the package's bin). In a checkout it runs the TypeScript sources through tsx.
import { runEntry } from './entry.mjs';

await runEntry('cli/kubectl-ferry/main');
