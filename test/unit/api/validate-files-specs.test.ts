/**
 * `ferry validate` on invalid files sources: each mistake is refused by the CRD schema or by the
 * semantic validator (the controller's Stalled message), naming the field. The same manifests go to
 * a real kube-apiserver in test/e2e/files-invalid-specs.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { validatePaths } from '../../../src/cli/validate.js';
import { INVALID_FILES_SPECS, filesFlow } from '../../helpers/invalid-files-specs.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-files-specs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function validate(name: string, flow: object): string[] {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, stringify(flow));
  return validatePaths([path]).errors.map((e) => `${e.path}: ${e.message}`);
}

describe('ferry validate on files sources', () => {
  it('accepts the valid flow the invalid ones are made from', () => {
    expect(validate('valid', filesFlow('valid'))).toEqual([]);
  });

  it.each(INVALID_FILES_SPECS.map((c) => [c.name, c] as const))('refuses %s, naming the field', (_name, invalid) => {
    const errors = validate(invalid.name, invalid.flow());
    expect(errors.length, errors.join('\n')).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(invalid.field);
  });
});
