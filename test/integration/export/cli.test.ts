import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../../helpers/databases.js';
import { ferry } from '../../helpers/ferry-process.js';
import { exportFlow, exportSource, receivedFiles, startDestinations, tempDir, type Destinations } from './fixtures.js';


describe('ferry run / exports / download / probe for an export flow', () => {
  let servers: Destinations;
  let urls: { sourceUrl: string; stateUrl: string };
  let dir: string;

  beforeAll(async () => {
    servers = await startDestinations();
    urls = await exportSource();
    await withClient(urls.sourceUrl, (c) => c.query(`INSERT INTO members VALUES (1, 'Ann', 'ann@example.org', 10, now()), (2, 'Bob', 'bob@example.org', 20, now())`));
    dir = tempDir('cli-manifests');
    const docs = [
      {
        apiVersion: 'ferry.dev/v1alpha1',
        kind: 'SyncFlow',
        metadata: { name: 'members-export' },
        spec: exportFlow({ mode: 'Changes', compression: 'Gzip', targets: [{ name: 'sftp' }, { name: 'ftps' }], fileNameTemplate: 'cli_{entity}_{seq}' }),
      },
      ...Object.entries(servers.targets).map(([name, spec]) => ({ apiVersion: 'ferry.dev/v1alpha1', kind: 'ExportTarget', metadata: { name }, spec })),
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'src' }, stringData: { url: urls.sourceUrl } },
      ...Object.entries(servers.secrets).map(([name, stringData]) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData })),
    ];
    writeFileSync(join(dir, 'manifests.yaml'), docs.map((d) => stringify(d)).join('---\n'));
  });
  afterAll(async () => {
    await servers?.close();
  });

  it('runs the export, lists it, downloads the archived file byte for byte, and re-transfers it', async () => {
    const run = await ferry(['run', '-f', dir, '--state-db', urls.stateUrl, '-o', 'json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.export.result).toBe('AllTransferred');
    const delivered = receivedFiles(servers.sftpRoot).get('cli_members_001.csv.gz')!;

    const list = await ferry(['exports', '-f', dir, '--state-db', urls.stateUrl]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(report.runId);
    expect(list.stdout).toMatch(/Complete\s*│\s*Completed/);
    expect(list.stdout).toContain('ftps: transferred');

    const out = join(tempDir('download'), 'file.csv.gz');
    const download = await ferry(['download', report.runId, '-o', out, '--state-db', urls.stateUrl]);
    expect(download.code).toBe(0);
    expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(createHash('sha256').update(delivered).digest('hex'));

    const again = await ferry(['exports', '-f', dir, '--state-db', urls.stateUrl, '--retransfer', report.runId, '--target', 'ftps']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('ftps: transferred cli_members_001.csv.gz');

    // A re-transfer that fails prints its report as asked (-o json), not the table.
    const badDir = tempDir('cli-retransfer-bad');
    writeFileSync(join(badDir, 'manifests.yaml'), readFileSync(join(dir, 'manifests.yaml'), 'utf8').replace('password: ftps-secret', 'password: wrong'));
    const failed = await ferry(['exports', '-f', badDir, '--state-db', urls.stateUrl, '--retransfer', report.runId, '--target', 'ftps', '-o', 'json']);
    expect(failed.code).not.toBe(0);
    expect(JSON.parse(failed.stdout)).toMatchObject({ runId: expect.any(String), status: 'Failed' });

    const install = await ferry(['exports', '-f', dir, '--state-db', urls.stateUrl, '--install-change-log']);
    expect(install.stdout).toContain('installed the change log (ferry_changes.change_log) and triggers on public.members');
    const trigger = await withClient(urls.sourceUrl, (c) => c.query(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgname = 'ferry_change_log'`));
    expect(trigger.rows[0].n).toBe(1);
  }, 480_000);

  it('probe prints each target Ready, and exits 1 naming the reason when one is not', async () => {
    const ok = await ferry(['probe', '-f', dir]);
    expect(ok.code).toBe(0);
    expect(ok.stdout.match(/Ready/g)).toHaveLength(2);
    const badDir = tempDir('cli-bad');
    const text = readFileSync(join(dir, 'manifests.yaml'), 'utf8').replace('password: ftps-secret', 'password: wrong');
    writeFileSync(join(badDir, 'manifests.yaml'), text);
    const bad = await ferry(['probe', '-f', badDir, '--target', 'ftps', '-o', 'json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject([{ target: 'ftps', ready: false, reason: 'AuthFailed' }]);
  }, 240_000);
});
