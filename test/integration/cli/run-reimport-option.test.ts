/**
 * `ferry run --reimport` refuses what a SyncJob's spec.reimport refuses, before it connects to
 * anything: a name with a directory, a mode other than Full or Incremental, and --watch (which would
 * otherwise drop the option without a word).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../helpers/databases.js';

const FERRY = join(process.cwd(), 'bin', 'ferry.mjs');
const dir = mkdtempSync(join(tmpdir(), 'ferry-reimport-option-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function manifests(targetUrl: string): string {
  const inbox = join(dir, 'inbox');
  const flow = {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'SyncFlow',
    metadata: { name: 'staff' },
    spec: {
      direction: 'OneWay',
      source: { files: { directory: inbox, settleSeconds: 0 } },
      target: { postgres: { secretRef: { name: 'dst' } } },
      entities: [
        {
          name: 'staff',
          source: { table: 'staff', keys: ['no'], file: { pattern: 'staff-*.csv', contents: 'Delta' } },
          target: { table: 'staff', keys: ['id'] },
          fields: [{ source: 'name', target: 'name' }],
          match: [{ source: 'no', target: 'employee_no' }],
        },
      ],
    },
  };
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dst' }, stringData: { url: targetUrl } };
  const path = join(dir, 'manifests.yaml');
  writeFileSync(path, [flow, secret].map((d) => stringify(d)).join('---\n'));
  return path;
}

describe('ferry run --reimport', () => {
  it.each([
    ['a name with a directory', ['--reimport', 'processed/staff-1.csv'], /--reimport "processed\/staff-1\.csv": a file name, without a directory/],
    ['mode Record', ['--mode', 'Record', '--record', 'staff/1', '--reimport', 'staff-1.csv'], /--reimport is only used with mode Full or Incremental, not Record/],
    ['--watch', ['--watch', '--reimport', 'staff-1.csv'], /--reimport asks for one run; it cannot be combined with --watch/],
  ])('refuses %s with exit code 2, before connecting', async (_case, args, message) => {
    // A state database nobody listens on: the refusal must come before any connection.
    const path = manifests('postgres://nobody@127.0.0.1:1/none');
    const run = spawnSync(process.execPath, [FERRY, 'run', '-f', path, '--state-db', 'postgres://nobody@127.0.0.1:1/state', ...args], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toMatch(message);
    expect(run.status, run.stderr).toBe(2);
  });

  it('takes a plain name (the run then says the flow has seen no such file)', async () => {
    const [targetUrl, stateUrl] = await Promise.all([freshDatabase('reimport_option_dst'), freshDatabase('reimport_option_state')]);
    const run = spawnSync(process.execPath, [FERRY, 'run', '-f', manifests(targetUrl), '--state-db', stateUrl, '--reimport', 'staff-1.csv'], { encoding: 'utf8', timeout: 120_000 });
    expect(run.stderr).toMatch(/--reimport staff-1\.csv: this flow has seen no file of that name/);
  }, 150_000);
});
