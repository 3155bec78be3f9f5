import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { SyncFlowSpec } from '../../src/api/syncflow.js';
import { miniFlowSpec } from './mini-flow.js';

/**
 * A directory with the mini flow's manifests for `ferry run -f` (the flow and its two secrets);
 * removeMiniManifests removes every directory made so far.
 */
export function miniManifests(sourceUrl: string, targetUrl: string, overrides: Partial<SyncFlowSpec> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-mini-'));
  made.push(dir);
  const docs = [
    { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'mini' }, spec: miniFlowSpec(overrides) },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'src' }, stringData: { url: sourceUrl } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dst' }, stringData: { url: targetUrl } },
  ];
  writeFileSync(join(dir, 'manifests.yaml'), docs.map((d) => stringify(d)).join('---\n'));
  return dir;
}

const made: string[] = [];

export function removeMiniManifests(): void {
  made.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true }));
}
