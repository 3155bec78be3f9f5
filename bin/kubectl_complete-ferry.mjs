#!/usr/bin/env node
// kubectl 1.26+ runs kubectl_complete-ferry from PATH to complete `kubectl ferry ...` arguments.
process.env.FERRY_COMPLETE = '1';
await import('./kubectl-ferry.mjs');
