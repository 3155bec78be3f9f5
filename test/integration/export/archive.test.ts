import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadRun } from '../../../src/export/history.js';
import { openStateStore } from '../../../src/store/db.js';
import { withClient } from '../../helpers/databases.js';
import { exportFlow, exportOnce, exportSource, receivedFiles, startDestinations, tempDir, type Destinations } from './fixtures.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('export archive', () => {
  let servers: Destinations;
  let urls: { sourceUrl: string; stateUrl: string };

  beforeAll(async () => {
    servers = await startDestinations();
    urls = await exportSource();
    await withClient(urls.sourceUrl, (c) => c.query(`INSERT INTO members SELECT g, 'M' || g, NULL, g, now() FROM generate_series(1, 500) g`));
  });
  afterAll(async () => {
    await servers?.close();
  });

  it('archives into a directory with size, rows and SHA-256 recorded, and downloads byte for byte', async () => {
    const archiveDir = tempDir('archive');
    const spec = exportFlow({ compression: 'Gzip', archive: { directory: archiveDir, retentionDays: 7 }, fileNameTemplate: 'dir_{entity}' });
    const { report, failure } = await exportOnce(urls, spec, { targets: servers.targets, secrets: servers.secrets }, { flowId: 'default/dir' });
    expect(failure).toBeUndefined();
    const [file] = report.export.files;
    const archived = join(archiveDir, 'default_dir', report.runId, 'dir_members.csv.gz');
    expect(readdirSync(join(archiveDir, 'default_dir', report.runId))).toEqual(['dir_members.csv.gz']);
    expect(sha256(readFileSync(archived))).toBe(file.sha256);
    expect(sha256(receivedFiles(servers.sftpRoot).get('dir_members.csv.gz')!)).toBe(file.sha256);
    const row = await withClient(urls.stateUrl, (c) =>
      c.query(`SELECT rows, bytes, sha256, location, expires_at - created_at AS keep FROM ferry.export_files WHERE run_id = $1`, [report.runId]),
    );
    expect(row.rows[0]).toMatchObject({ rows: '500', bytes: String(file.bytes), sha256: file.sha256, location: archived });
    expect(row.rows[0].keep.days).toBe(7);

    const store = await openStateStore(urls.stateUrl);
    try {
      const out = join(tempDir('download'), 'copy.gz');
      await downloadRun(store.pool, report.runId, out);
      expect(sha256(readFileSync(out))).toBe(file.sha256);
    } finally {
      await store.close();
    }
  });

  it('removes files past their retention at the next run; a re-transfer of them fails with a clear reason', async () => {
    const spec = exportFlow({ archive: { retentionDays: 0 }, fileNameTemplate: 'short_{entity}_{seq}', split: { maxRows: 200 } });
    const context = { targets: servers.targets, secrets: servers.secrets };
    const first = await exportOnce(urls, spec, context, { flowId: 'default/short' });
    expect(first.report.export.files.map((f) => f.rows)).toEqual([200, 200, 100]);
    await exportOnce(urls, spec, context, { flowId: 'default/short' });
    const chunks = await withClient(urls.stateUrl, (c) =>
      c.query(`SELECT count(*)::int AS n FROM ferry.export_file_chunks k JOIN ferry.export_files f ON f.id = k.file_id WHERE f.run_id = $1`, [first.report.runId]),
    );
    expect(chunks.rows[0].n).toBe(0);
    const again = await exportOnce(urls, spec, { ...context, retransfer: { runId: first.report.runId } }, { flowId: 'default/short', mode: 'Retransfer' });
    expect(again.report.export.result).toBe('CreationFailed');
    expect(String(again.failure)).toMatch(/removed from the archive .* \(retention\)/);
  });
});
