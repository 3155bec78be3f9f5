import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readResolutionsFile, resolutionFromFlags } from '../../../src/cli/resolve.js';
import { parseInterval } from '../../../src/cli/watch.js';
import { loopWindowSeconds, parseWindow } from '../../../src/api/defaults.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-resolutions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('ferry resolve input', () => {
  it.each([
    ['--keep source', { entity: 'people', key: '1', keep: 'source' as const }, { entity: 'people', sourceKey: '1', action: 'KeepSource' }],
    ['--keep target --field', { entity: 'people', targetKey: '5000', keep: 'target' as const, field: ['email'] }, { entity: 'people', targetKey: '5000', action: 'KeepTarget', fields: ['email'] }],
    ['--deactivate', { entity: 'people', key: '1', deactivate: true }, { entity: 'people', sourceKey: '1', action: 'Deactivate' }],
    ['--reactivate', { entity: 'people', key: '1', reactivate: true }, { entity: 'people', sourceKey: '1', action: 'Reactivate' }],
    ['--unlink', { entity: 'people', key: '1', unlink: true }, { entity: 'people', sourceKey: '1', action: 'Unlink' }],
    ['--link', { entity: 'people', link: '7=5007' }, { entity: 'people', sourceKey: '7', targetKey: '5007', action: 'Link' }],
  ])('%s', (_name, flags, expected) => expect(resolutionFromFlags(flags)).toEqual(expected));

  it.each([
    [{ key: '1', keep: 'source' as const }, /--entity is required/],
    [{ entity: 'people', key: '1' }, /exactly one of/],
    [{ entity: 'people', key: '1', unlink: true, deactivate: true }, /exactly one of/],
    [{ entity: 'people', keep: 'source' as const }, /--key/],
    [{ entity: 'people', key: '1', unlink: true, field: ['email'] }, /only used with --keep/],
    [{ entity: 'people', link: '7' }, /SOURCE_KEY=TARGET_KEY/],
  ])('refuses %o', (flags, message) => expect(() => resolutionFromFlags(flags)).toThrow(message));

  it('reads a list, a { resolutions } document or a SyncJob', () => {
    const list = `- {entity: people, sourceKey: "1", action: KeepSource}\n`;
    expect(readResolutionsFile(file('list.yaml', list))).toEqual([{ entity: 'people', sourceKey: '1', action: 'KeepSource' }]);
    expect(readResolutionsFile(file('doc.yaml', `resolutions:\n  - {entity: people, targetKey: "9", action: Unlink}\n`))).toHaveLength(1);
    const job = `apiVersion: ferry.dev/v1alpha1\nkind: SyncJob\nmetadata: {name: fix}\nspec:\n  flowRef: {name: f}\n  mode: Resolve\n  resolutions:\n    - {entity: people, sourceKey: "1", action: Deactivate}\n`;
    expect(readResolutionsFile(file('job.yaml', job))[0].action).toBe('Deactivate');
    expect(() => readResolutionsFile(file('bad.yaml', `- {entity: people, sourceKey: "1", action: Maybe}\n`))).toThrow(/not a list of resolutions/);
  });
});

describe('durations', () => {
  it.each([
    ['1h', 3600],
    ['90m', 5400],
    ['1h30m', 5400],
    ['45s', 45],
    ['', undefined],
    ['1d', undefined],
  ])('window %s', (text, seconds) => expect(parseWindow(text)).toBe(seconds));
  it('window wins over oneWayWindowSeconds; none means no window', () => {
    expect(loopWindowSeconds({ window: '10m', oneWayWindowSeconds: 5 })).toBe(600);
    expect(loopWindowSeconds({ oneWayWindowSeconds: 5 })).toBe(5);
    expect(loopWindowSeconds(undefined)).toBe(0);
  });
  it('--interval', () => {
    expect(parseInterval('30s')).toBe(30_000);
    expect(parseInterval('5m')).toBe(300_000);
    expect(parseInterval('10')).toBe(10_000);
    expect(() => parseInterval('0')).toThrow(/--interval/);
  });
});
