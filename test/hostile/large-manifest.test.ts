import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { largeManifest } from '../../bench/manifest-validation.js';
import { parseManifests } from '../../src/api/manifests.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-hostile-manifest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Time is measured in the bench (row v), not here; memory is the bound a test can hold without a
 * clock: the whole command must fit in a heap far smaller than the 600 MB it once took.
 */
const HEAP_MB = 256;

describe('a very large manifest', () => {
  it(`200 entities x 500 fields (about 4 MB) validates within a ${HEAP_MB} MB heap`, () => {
    const file = join(dir, 'large.yaml');
    writeFileSync(file, largeManifest(200, 500));
    const out = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, join(process.cwd(), 'bin', 'ferry.mjs'), 'validate', '--offline', '-f', file], {
      encoding: 'utf8',
      timeout: 110_000,
    });
    expect(out.status, out.stderr.slice(-2000)).toBe(0);
    expect(out.stdout).toContain('1 manifest valid');
  }, 120_000);

  it('reads the same values the YAML 1.2 core schema gives (dates and yes/no stay strings, no merge keys)', () => {
    const loaded = parseManifests(
      `apiVersion: ferry.dev/v1alpha1
kind: SyncFlow
metadata: { name: x, annotations: { when: 2026-01-01, flag: yes, octal: 0o17, nothing: ~ } }
spec: { entities: [{ <<: { name: merged } }] }
`,
      'x.yaml',
    );
    const flow = loaded.flows[0] as unknown as { metadata: { annotations: Record<string, unknown> }; spec: { entities: Record<string, unknown>[] } };
    expect(flow.metadata.annotations).toEqual({ when: '2026-01-01', flag: 'yes', octal: 15, nothing: null });
    expect(flow.spec.entities[0]).toEqual({ '<<': { name: 'merged' } });
  });

  it('aliases that refer to their own ancestor are refused, not looped over', () => {
    const loaded = parseManifests('apiVersion: ferry.dev/v1alpha1\nkind: SyncFlow\nmetadata: &m { name: x, self: *m }\n', 'loop.yaml');
    expect(loaded.flows).toEqual([]);
    expect(loaded.errors.map((e) => e.message).join()).toMatch(/invalid YAML/);
  });
});
