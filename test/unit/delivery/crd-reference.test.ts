import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crdReferencePath, renderCrdReference } from '../../../scripts/gen-crd-docs.js';

describe('docs/crd-reference.md', () => {
  const rendered = renderCrdReference();

  it('is up to date with src/api (run `npm run gen:crds`)', () => {
    let onDisk = '';
    try {
      onDisk = readFileSync(crdReferencePath, 'utf8');
    } catch {
      // reported below
    }
    expect(onDisk === rendered, 'docs/crd-reference.md is out of date: run `npm run gen:crds`').toBe(true);
  });

  it('documents every kind with its spec, status, columns and rules', () => {
    for (const kind of ['SyncFlow', 'SyncJob', 'ExportTarget']) {
      expect(rendered).toContain(`## ${kind}\n`);
      expect(rendered).toContain(`### ${kind} spec`);
      expect(rendered).toContain(`### ${kind} status`);
    }
    expect(rendered).toMatch(/\| `spec\.mode` \| string \| yes \| .*one of `Full`, `Incremental`, `Scope`, `Record`, `Resolve`, `Retransfer`/);
    expect(rendered).toContain('scope is required when mode is Scope');
    expect(rendered).toMatch(/\| `spec\.schedules\[\]\.enabledIn` \| \[\]string \|/);
    expect(rendered).toContain('`Phase` (.status.phase)');
  });
});
