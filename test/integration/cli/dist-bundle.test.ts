import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { runNode } from '../../helpers/ferry-process.js';
import { MINI_TARGET_SQL, miniFlowSpec, MINI_SOURCE_SQL, seedMini } from '../../helpers/mini-flow.js';

// The package as `npm run build` makes it (tsc, then scripts/bundle-dist.mjs), without src/, so that
// bin/ferry.mjs runs the bundle in dist/bundle/ as the container image does.
const repo = process.cwd();
let root = '';

// Refuses every module of tsc's dist/ outside dist/bundle/ (the bundle must stand alone) and, as in
// node20-local-commands.test.ts, the Kubernetes client, which local commands never load.
const refuseUnbundled = `data:text/javascript,${encodeURIComponent(`
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
export async function load(url, context, next) {
  if (/\\\\/dist\\\\/(?!bundle\\\\/)/.test(url) && !url.includes('/node_modules/')) throw new Error('loaded a module outside the bundle: ' + url);
  if (/\\\\/node_modules\\\\/(@kubernetes\\\\/client-node|undici)\\\\//.test(url)) throw new Error('loaded the Kubernetes client: ' + url);
  return next(url, context);
}\`));
`)}`;

const ferry = (args: string[]) => runNode(join(root, 'bin', 'ferry.mjs'), args, { FERRY_USE_DIST: '1', NODE_OPTIONS: `--import ${refuseUnbundled}` });

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ferry-bundle-'));
  const node = (args: string[]) => spawnSync(process.execPath, args, { encoding: 'utf8', cwd: repo });
  const built = node([join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json', '--outDir', join(root, 'dist')]);
  expect(built.status, built.stdout + built.stderr).toBe(0);
  cpSync(join(repo, 'bin'), join(root, 'bin'), { recursive: true });
  copyFileSync(join(repo, 'package.json'), join(root, 'package.json'));
  for (const dir of ['node_modules', 'drizzle', 'examples']) symlinkSync(join(repo, dir), join(root, dir));
  const bundled = node([join(repo, 'scripts', 'bundle-dist.mjs'), join(root, 'dist')]);
  expect(bundled.status, bundled.stdout + bundled.stderr).toBe(0);
}, 180_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the bundled dist (npm run build)', () => {
  it('has its entry points in dist/bundle/, and bin/ferry.mjs runs them alone', async () => {
    expect(existsSync(join(root, 'dist', 'bundle', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(root, 'dist', 'bundle', 'cli', 'kubectl-ferry', 'main.js'))).toBe(true);
    const chunks = readdirSync(join(root, 'dist', 'bundle')).filter((f) => f.endsWith('.js'));
    const withValidators = chunks.filter((f) => /precompiledValidators = \{ \w+/.test(readFileSync(join(root, 'dist', 'bundle', f), 'utf8')));
    expect(withValidators).toHaveLength(1);
    const version = await ferry(['--version']);
    expect(version.stderr).toBe('');
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = await ferry(['--help']);
    expect(help.stderr).toBe('');
    expect(help.stdout).toContain('demo');
    const valid = await ferry(['validate', '--offline', '-f', join('examples', 'association', 'syncflow.yaml')]);
    expect(valid.stderr).toBe('');
    expect(valid.code).toBe(0);
    const invalid = await ferry(['run', '-f', join(repo, 'examples', 'invalid', 'bad-cron.yaml')]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/spec\.schedules\[0\]\.cron/);
  });

  it('validates with the precompiled validators exactly as the sources compile them (examples/invalid, every valid example)', async () => {
    const valid = ['association', 'association-mariadb', 'gitops', 'loyalty-export', 'payroll-import', 'quickstart', 'two-way-people', 'website-wordpress'];
    for (const files of [['invalid'], valid]) {
      const args = ['validate', '--offline', ...files.flatMap((dir) => ['-f', join('examples', dir)])];
      const [bundled, source] = await Promise.all([ferry(args), runNode(join(repo, 'bin', 'ferry.mjs'), args)]);
      expect(source.code, source.stderr).toBe(files[0] === 'invalid' ? 2 : 0);
      expect(bundled).toEqual(source);
    }
  });

  it('loads every chunk (a bundled package that looks for files by its own path would fail here)', () => {
    const dir = join(root, 'dist', 'bundle');
    const chunks = readdirSync(dir).filter((f) => f.endsWith('.js'));
    expect(chunks.length).toBeGreaterThan(10);
    const script = `for (const f of ${JSON.stringify(chunks.map((f) => pathToFileURL(join(dir, f)).href))}) await import(f); process.exit(0);`;
    const loaded = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(loaded.stderr).toBe('');
    expect(loaded.status).toBe(0);
  });

  it('runs a sync end to end (the state database migrated by the bundled drizzle-orm)', async () => {
    const [sourceUrl, targetUrl, stateUrl] = [await freshDatabase('bundle_src'), await freshDatabase('bundle_dst'), await freshDatabase('bundle_state')];
    await withClient(sourceUrl, (c) => c.query(MINI_SOURCE_SQL));
    await withClient(targetUrl, (c) => c.query(MINI_TARGET_SQL));
    await seedMini(sourceUrl);
    const docs = [
      { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'mini' }, spec: miniFlowSpec() },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'src' }, stringData: { url: sourceUrl } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dst' }, stringData: { url: targetUrl } },
    ];
    writeFileSync(join(root, 'manifests.yaml'), docs.map((d) => stringify(d)).join('---\n'));
    const out = await ferry(['run', '-f', join(root, 'manifests.yaml'), '--state-db', stateUrl, '--mode', 'Full', '-o', 'json']);
    expect(out.code, out.stderr).toBe(0);
    const report = JSON.parse(out.stdout) as { status: string; totals: { read: number; created: number; rejected: number } };
    expect(report.status).toBe('Succeeded');
    expect(report.totals.created).toBeGreaterThan(0);
    expect(report.totals).toMatchObject({ read: report.totals.created, rejected: 0 });
  });

  it('falls back to tsc\'s dist/ when the bundle is older than it (a bare tsc after a build)', async () => {
    const entry = join(root, 'dist', 'cli', 'main.js');
    const later = new Date(Date.now() + 60_000);
    utimesSync(entry, later, later);
    const out = await ferry(['--version']);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toContain('loaded a module outside the bundle');
  });
});
