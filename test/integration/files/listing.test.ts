import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileSource } from '../../../src/api/files.js';
import { runSync } from '../../../src/connectors/run.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { drop, filesFlowSpec, inbox, TARGET_SQL } from './files-source.js';

const logger = pino({ level: 'silent' });
const FERRY = join(process.cwd(), 'bin', 'ferry.mjs');

const DELTA: FileSource = { pattern: 'changes-*.csv', contents: 'Delta', orderCapture: '-(\\d+)\\.csv$', csv: { delimiter: ';' } };
const csv = (...lines: string[]) => ['no;name;note;salary;born', ...lines].join('\n');

/** The real CLI in a process of its own (the test appends to a file while it lists). */
function ferry(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FERRY, ...args], { env: { ...process.env, FERRY_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('ferry files: the files a files source has seen, with their status', () => {
  let dir: string;
  let manifests: string;
  let targetUrl: string;
  let stateUrl: string;
  const endpoint = () => ({ directory: dir, settleSeconds: 1, failedDirectory: 'failed' });

  const run = () =>
    runSync({
      flowId: 'default/payroll',
      spec: { ...filesFlowSpec(endpoint(), DELTA) },
      mode: 'Incremental',
      sourceUrl: '',
      targetUrl,
      stateUrl,
      logger,
      files: { targets: {}, secrets: {} },
    }).catch((error: unknown) => error);

  const writeManifests = async (extra: object[] = []) => {
    const docs = [
      { apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncFlow', metadata: { name: 'payroll' }, spec: filesFlowSpec(endpoint(), DELTA) },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dst' }, stringData: { url: targetUrl } },
      ...extra,
    ];
    await writeFile(join(manifests, 'payroll.yaml'), docs.map((d) => stringify(d)).join('---\n'));
  };

  beforeAll(async () => {
    dir = await inbox();
    manifests = await mkdtemp(join(tmpdir(), 'ferry-files-manifests-'));
    [targetUrl, stateUrl] = await Promise.all([freshDatabase('files_listing_dst'), freshDatabase('files_listing_state')]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
    await writeManifests();
  }, 60_000);

  afterAll(async () => {
    await Promise.all([rm(dir, { recursive: true, force: true }), rm(manifests, { recursive: true, force: true })]);
  });

  it('imported (when, rows), unchanged, failed with its reason, pending (new, temporary name, still growing), re-import requested', async () => {
    await drop(dir, 'changes-1.csv', Buffer.from(csv('9;"Cid;;;')));
    expect(await run()).toBeInstanceOf(Error);
    await drop(dir, 'changes-2.csv', Buffer.from(csv('1;Ann;;;', '2;Ben;;;', '3;Cid;;;')));
    await drop(dir, 'changes-3.csv', Buffer.from(csv('1;Ann Smith;;;', '4;Dee;;;')));
    const imported = await run();
    expect(imported).not.toBeInstanceOf(Error);
    // changes-2 left the location after its import (someone cleaned up); changes-3 is still there.
    await rm(join(dir, 'changes-2.csv'));
    await drop(dir, 'changes-4.csv', Buffer.from(csv('5;Eve;;;')));
    await drop(dir, 'changes-5.csv.part', Buffer.from(csv('6;Fay;;;')));
    await drop(dir, 'changes-6.csv', Buffer.from(csv('7;Gus;;;')));
    await drop(dir, 'unrelated.txt', Buffer.from('not ours'));
    await writeManifests([{ apiVersion: 'ferry.dev/v1alpha1', kind: 'SyncJob', metadata: { name: 'again' }, spec: { flowRef: { name: 'payroll' }, mode: 'Incremental', reimport: ['changes-3.csv'] } }]);

    // changes-6.csv keeps growing while the CLI looks twice (settleSeconds 1).
    const growing = setInterval(() => void appendFile(join(dir, 'changes-6.csv'), '\n8;Hal;;;'), 150);
    const listed = await ferry(['files', '-f', manifests, '--state-db', stateUrl, '-o', 'json']).finally(() => clearInterval(growing));
    expect(listed.code, listed.stderr).toBe(0);
    const { flow, files } = JSON.parse(listed.stdout) as { flow: string; files: Record<string, unknown>[] };
    expect(flow).toBe('payroll');
    const byName = new Map(files.map((f) => [f.name, f]));
    expect(files.map((f) => [f.name, f.status])).toEqual([
      ['changes-1.csv', 'failed'],
      ['changes-2.csv', 'imported'],
      ['changes-3.csv', 'reimport-requested'],
      ['changes-4.csv', 'pending'],
      ['changes-5.csv.part', 'pending'],
      ['changes-6.csv', 'pending'],
    ]);
    expect(byName.get('changes-1.csv')).toMatchObject({ entity: 'employees', detail: expect.stringMatching(/not valid CSV \(Quote Not Closed/), path: 'failed/changes-1.csv' });
    expect(byName.get('changes-2.csv')).toMatchObject({ rows: 3, importedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(byName.get('changes-3.csv')).toMatchObject({ rows: 2 });
    expect(byName.get('changes-4.csv')).toMatchObject({ detail: expect.stringMatching(/^new/), size: csv('5;Eve;;;').length });
    expect(byName.get('changes-5.csv.part')).toMatchObject({ detail: 'still being written (temporary name)' });
    expect(byName.get('changes-6.csv')).toMatchObject({ detail: expect.stringMatching(/^still being written \(size or time changed/) });

    // Without the re-import request, changes-3 is at the location unchanged since its import: runs skip it.
    await writeManifests();
    const table = await ferry(['files', '-f', manifests, '--state-db', stateUrl, '--flow', 'payroll']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/│ employees\s+│ changes-3\.csv\s+│ unchanged\s+│ \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+│ 2\s+│/);
    expect(table.stdout).toMatch(/│ employees\s+│ changes-2\.csv\s+│ imported\s+│ .*│ 3\s+│/);
    expect(table.stdout).toMatch(/failed: 1, imported: 1, unchanged: 1, pending: 3/);

    // The recorded files only, in YAML: no listing of the location, and the output says so.
    const recorded = await ferry(['files', '-f', manifests, '--state-db', stateUrl, '--recorded-only', '-o', 'yaml']);
    expect(recorded.code, recorded.stderr).toBe(0);
    expect(recorded.stdout).toMatch(/^flow: payroll\nfiles:\n/);
    expect(recorded.stdout).not.toMatch(/changes-4/);
    expect(recorded.stdout).toMatch(/note: .*not listed/);
    // No connection string reaches the output.
    for (const out of [listed, table, recorded]) expect(out.stdout + out.stderr).not.toMatch(/postgres(ql)?:\/\//);
  }, 110_000);

  it('names a flow without a files source', async () => {
    const out = await ferry(['files', '-f', manifests, '--state-db', stateUrl, '--flow', 'nosuch']);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/SyncFlow "nosuch" not found/);
  }, 60_000);
});
