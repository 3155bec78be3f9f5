import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FERRY, runNode } from '../../helpers/ferry-process.js';

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
