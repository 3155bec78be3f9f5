import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chartDir, repoRoot } from './helm.js';

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function instructions(text: string): { keyword: string; args: string }[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

const dockerfile = instructions(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
const dockerignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
const stages = dockerfile.reduce<{ keyword: string; args: string }[][]>((all, instruction) => {
  if (instruction.keyword === 'FROM') all.push([]);
  all.at(-1)?.push(instruction);
  return all;
}, []);
const finalStage = stages.at(-1) ?? [];
const label = (name: string) => {
  const labels = finalStage.filter((i) => i.keyword === 'LABEL').map((i) => i.args).join(' ');
  return new RegExp(`${name.replace(/\./g, '\\.')}="([^"]*)"`).exec(labels)?.[1];
};

describe('Dockerfile', () => {
  it('is multi-stage: build, then a runtime stage built from the same pinned Node LTS slim image', () => {
    const froms = dockerfile.filter((i) => i.keyword === 'FROM').map((i) => i.args);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const aliases = froms.map((from) => / AS (\S+)$/i.exec(from)?.[1]).filter(Boolean);
    for (const from of froms) {
      const image = from.split(/\s+/)[0];
      if (aliases.includes(image)) continue;
      // Pinned: a full x.y.z version tag (or a digest), never latest or a floating major.
      expect(image, `${image} is not pinned`).toMatch(/^[\w./-]+(:\d+\.\d+\.\d+[\w.-]*|@sha256:[a-f0-9]{64})$/);
      expect(image).toMatch(/^node:\d*[02468]\.\d+\.\d+-\w+-slim$/);
    }
    expect(new Set(froms.map((f) => f.split(/\s+/)[0])).size).toBe(1);
  });

  it('drops the dev dependencies and compiles before the runtime stage', () => {
    const build = stages[0].filter((i) => i.keyword === 'RUN').map((i) => i.args).join(' && ');
    expect(build).toMatch(/npm ci/);
    expect(build).toMatch(/npm run build/);
    expect(build).toMatch(/npm prune --omit=dev/);
  });

  it('runs as the non-root user 10001 with ferry as the entrypoint', () => {
    const users = finalStage.filter((i) => i.keyword === 'USER').map((i) => i.args);
    expect(users.at(-1)).toBe('10001:10001');
    expect(finalStage.filter((i) => i.keyword === 'ENTRYPOINT').map((i) => JSON.parse(i.args))).toEqual([['ferry']]);
    expect(finalStage.some((i) => i.keyword === 'RUN' && i.args.includes('/usr/local/bin/ferry'))).toBe(true);
  });

  it('copies no secrets and never the whole context', () => {
    const copies = dockerfile.filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD');
    expect(dockerfile.filter((i) => i.keyword === 'ADD')).toEqual([]);
    for (const { args } of copies) {
      const sources = args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1);
      for (const source of sources) {
        expect(source, `COPY ${args}`).not.toMatch(/^\.\/?$|\.env|\.npmrc|\.pem$|\.key$|id_rsa|kubeconfig|secret|\.git/i);
      }
    }
    expect(dockerfile.filter((i) => i.keyword === 'ARG' || i.keyword === 'ENV').map((i) => i.args).join(' ')).not.toMatch(
      /PASSWORD|TOKEN|SECRET|NPM_TOKEN/i,
    );
  });

  it('.dockerignore keeps secrets, local state and VCS data out of the build context', () => {
    for (const pattern of ['**/.env', '**/.env.*', '**/*.pem', '**/*.key', '.npmrc', '.git', 'node_modules', 'dist', '.ferry']) {
      expect(dockerignore, pattern).toContain(pattern);
    }
  });

  it('is the image the chart deploys by default, at the same version as the package', () => {
    const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
    const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { appVersion: string; home: string };
    const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as { image: { repository: string; tag: string } };
    expect(label('org.opencontainers.image.version')).toBe(version);
    expect(chart.appVersion).toBe(version);
    expect(values.image.tag).toBe('');
    const source = label('org.opencontainers.image.source') ?? '';
    expect(source).toBe(chart.home);
    // GitHub Container Registry naming: ghcr.io/<owner>/<repo>.
    expect(values.image.repository).toBe(source.replace('https://github.com/', 'ghcr.io/'));
  });
});
