import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { registerValidateCommand, validatePaths } from '../../../src/cli/validate.js';

const repo = join(import.meta.dirname, '../../..');
const fixtures = join(import.meta.dirname, 'fixtures');
const invalid = (name: string) => join(repo, 'examples/invalid', name);

describe('ferry validate', () => {
  afterEach(() => {
    process.exitCode = undefined;
  });

  it('reports valid manifests', () => {
    const result = validatePaths([fixtures]);
    expect(result.errors).toEqual([]);
    expect(result.report).toBe(`✓ ${result.manifestCount} manifests valid`);
  });

  it('prints file: path: message for each error across several -f', () => {
    const result = validatePaths([invalid('bad-cron.yaml'), invalid('job-unknown-flow.yaml')]);
    expect(result.report.split('\n')).toEqual([
      `${invalid('bad-cron.yaml')}: spec.schedules[0].cron: invalid cron "61 2 * * *": Invalid value for minute: 61`,
      `${invalid('job-unknown-flow.yaml')}: spec.flowRef.name: SyncFlow "association" not found`,
    ]);
  });

  it('treats an empty selection as an error', () => {
    expect(validatePaths([join(repo, 'crds')]).report).toContain('no Ferry manifests found');
  });

  it('sets exit code 2 when invalid and 0 when valid', async () => {
    const run = async (...args: string[]) => {
      const program = new Command().exitOverride();
      registerValidateCommand(program);
      await program.parseAsync(['validate', ...args], { from: 'user' });
      return process.exitCode;
    };
    expect(await run('-f', invalid('bad-cron.yaml'), '--offline')).toBe(2);
    expect(await run('-f', fixtures, '--offline')).toBe(0);
  });
});
