import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { kubeTools } from '../../../scripts/kube-tools.js';
import { formatValidationErrors, loadManifests, parseManifests, validateManifests } from '../../../src/api/index.js';

const repo = join(import.meta.dirname, '../../..');
const examplesDir = join(repo, 'examples');
const invalidDir = join(examplesDir, 'invalid');
const fixturesDir = join(import.meta.dirname, 'fixtures');

/** Each top-level example directory (or file) is one unit, applied together as with `kubectl apply -f dir/`. */
function exampleUnits(): string[] {
  let entries: string[] = [];
  try {
    entries = readdirSync(examplesDir).sort();
  } catch {
    return [];
  }
  return entries
    .map((name) => join(examplesDir, name))
    .filter((path) => path !== invalidDir && (statSync(path).isDirectory() || /\.ya?ml$/.test(path)));
}

function expectValid(path: string) {
  const loaded = loadManifests(path);
  const errors = validateManifests(loaded);
  expect(errors, formatValidationErrors(errors, path)).toEqual([]);
  return loaded;
}

describe('valid manifests', () => {
  it('the full-featured fixture is valid', () => {
    const loaded = expectValid(fixturesDir);
    expect(loaded.flows.length).toBeGreaterThan(0);
    expect(loaded.jobs.length).toBeGreaterThan(0);
    expect(loaded.targets.length).toBeGreaterThan(0);
  });

  const units = exampleUnits().map((path) => [relative(repo, path), path] as const);
  it('examples/ holds manifests to check', () => {
    expect(units.map(([name]) => name)).toContain('examples/association');
  });

  it.each(units)('%s passes schema and semantic validation', (_name, path) => {
    expectValid(path);
  });
});

interface Expectation {
  file: string;
  path: string;
  fragment: string;
}

function invalidExamples(): Expectation[] {
  return readdirSync(invalidDir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => {
      const file = join(invalidDir, name);
      const firstLine = readFileSync(file, 'utf8').split('\n')[0];
      const match = /^# expect: (\S+): (.+)$/.exec(firstLine);
      if (!match) throw new Error(`${name}: first line must be "# expect: <path>: <message fragment>"`);
      return { file, path: match[1], fragment: match[2] };
    });
}

describe('examples/invalid', () => {
  it.each(invalidExamples().map((e) => [relative(invalidDir, e.file), e] as const))(
    '%s reports exactly the expected error',
    (_name, { file, path, fragment }) => {
      const errors = validateManifests(loadManifests(file));
      expect(errors.map((e) => ({ path: e.path, hasFragment: e.message.includes(fragment) })), formatValidationErrors(errors, file)).toEqual([
        { path, hasFragment: true },
      ]);
    },
  );
});

/** Kustomize directories under examples/ (overlays and bases), rendered with kubectl's built-in kustomize. */
function kustomizations(dir = examplesDir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return kustomizations(path);
    return entry.name === 'kustomization.yaml' ? [dir] : [];
  });
}

describe('kustomize overlays in examples/', () => {
  const kubectl = kubeTools().kubectl;
  const rendered = (dir: string) => execFileSync(kubectl, ['kustomize', dir], { encoding: 'utf8' });
  const dirs = kustomizations().map((dir) => [relative(repo, dir), dir] as const);

  it('examples/gitops has a base and two overlays', () => {
    expect(dirs.map(([name]) => name)).toEqual(expect.arrayContaining(['examples/gitops/base', 'examples/gitops/overlays/prod', 'examples/gitops/overlays/staging']));
  });

  it.each(dirs)('%s renders to valid manifests', (name, dir) => {
    const loaded = parseManifests(rendered(dir), name);
    const errors = validateManifests(loaded);
    expect(errors, formatValidationErrors(errors, name)).toEqual([]);
    expect(loaded.flows.length).toBeGreaterThan(0);
  });

  it('the staging overlay suspends the overnight sync; prod keeps it', () => {
    const overnight = (overlay: string) =>
      parseManifests(rendered(join(examplesDir, 'gitops', 'overlays', overlay)), overlay).flows[0].spec.schedules?.find((s) => s.name === 'overnight');
    expect(overnight('staging')?.suspend).toBe(true);
    expect(overnight('prod')?.suspend).toBeUndefined();
  });

  it('the Flux Kustomization and the Argo CD Application point at overlays that exist', () => {
    const paths = [
      ...parseAllDocuments(readFileSync(join(examplesDir, 'gitops', 'flux', 'ferry-flows.yaml'), 'utf8'))
        .map((doc) => doc.toJS() as { kind: string; spec: { path?: string } })
        .filter((doc) => doc.kind === 'Kustomization')
        .map((doc) => doc.spec.path ?? ''),
      (parse(readFileSync(join(examplesDir, 'gitops', 'argocd', 'application.yaml'), 'utf8')) as { spec: { source: { path: string } } }).spec.source.path,
    ];
    expect(paths).toHaveLength(2);
    for (const path of paths) expect(statSync(join(repo, path, 'kustomization.yaml')).isFile(), path).toBe(true);
  });
});
