import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import type { Logger } from 'pino';
import pg from 'pg';
import type { ExportTargetSpec } from '../api/exporttarget.js';
import type { SyncFlow } from '../api/syncflow.js';
import { RunFailedError } from '../engine/run.js';
import { runSync } from '../connectors/run.js';
import { installChangeLog } from '../connectors/postgres/change-log.js';
import { formatBytes, renderInstances } from '../export/dashboard.js';
import { listExportInstances } from '../export/history.js';
import { startLoopbackFtps } from '../export/loopback/ftps-server.js';
import { createTestPki } from '../export/loopback/pki.js';
import { startLoopbackSftp } from '../export/loopback/sftp-server.js';
import type { ExportRunReport } from '../export/run-export.js';
import { ensureDatabase } from '../local/embedded-server.js';
import { loadValidManifests } from '../local/local-run.js';
import { openStateStore } from '../store/db.js';
import { packageRoot } from '../util/package-root.js';

const EXAMPLE_DIR = () => join(packageRoot(), 'examples', 'loyalty-export');

async function createLoyaltyData(url: string, members: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(readFileSync(join(EXAMPLE_DIR(), 'source-schema.sql'), 'utf8'));
    await client.query(
      `INSERT INTO members (id, card_number, first_name, last_name, email, tier, points, updated_at)
       SELECT g, 'LC' || lpad(g::text, 8, '0'), 'First' || g, 'Last' || g, 'Member' || g || '@Example.org',
              (ARRAY['Blue', 'Silver', 'Gold'])[1 + g % 3], (g * 37) % 5000, '2026-01-01'::timestamptz + g * interval '1 minute'
         FROM generate_series(1, $1) g`,
      [members],
    );
    await client.query(
      `INSERT INTO product_items SELECT 'SKU-' || g, 'Reward item ' || g, (ARRAY['Travel', 'Dining', 'Gifts'])[1 + g % 3], 500 + g * 25, g % 10 <> 0
         FROM generate_series(1, 60) g`,
    );
    await installChangeLog(client, [{ schema: 'public', table: 'cases' }]);
    await client.query(`INSERT INTO cases (id, member_id, status, subject) SELECT g, g * 7, 'Open', 'Missing points for visit ' || g FROM generate_series(1, 12) g`);
    await client.query(`UPDATE cases SET status = 'InProgress', updated_at = now() WHERE id <= 4`);
  } finally {
    await client.end();
  }
}

function visibleFiles(dir: string): string[] {
  return readdirSync(dir).filter((n) => !n.startsWith('.')).sort();
}

/**
 * The demo's export step: three loyalty exports (Changes, Snapshot, Events) delivered to an SFTP and
 * an FTPS server running in this process on loopback, then a second round with only the changes,
 * the export dashboard, and a re-transfer.
 */
export async function runExportStep(serverUrl: string, options: { say: (line: string) => void; logger: Logger; members?: number }): Promise<void> {
  const { say, logger } = options;
  const work = mkdtempSync(join(tmpdir(), 'ferry-demo-export-'));
  const sftpRoot = join(work, 'sftp');
  const ftpsRoot = join(work, 'ftps');
  mkdirSync(sftpRoot);
  mkdirSync(ftpsRoot);
  const pki = createTestPki(work, 'Ferry demo CA');
  const sftp = await startLoopbackSftp({ root: sftpRoot, username: 'loyalty', password: 'demo-sftp-password' });
  const ftps = await startLoopbackFtps({ root: ftpsRoot, username: 'loyalty', password: 'demo-ftps-password', tls: { key: pki.serverKey, cert: pki.serverCert } });
  try {
    const sourceUrl = await ensureDatabase(serverUrl, 'loyalty');
    const stateUrl = await ensureDatabase(serverUrl, 'ferry_state');
    await createLoyaltyData(sourceUrl, options.members ?? 1000);
    const partnerKey = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'Loyalty Partner', email: 'partner@example.org' }], format: 'armored' });

    const manifests = loadValidManifests([EXAMPLE_DIR()]);
    // The example points at the partner's real hosts; here they are the loopback servers.
    const targets: Record<string, ExportTargetSpec> = {};
    for (const t of manifests.targets) {
      const loopback = t.spec.protocol === 'SFTP' ? { port: sftp.port, directory: '', sftp: { hostKey: sftp.hostKey } } : { port: ftps.port, directory: '' };
      targets[t.metadata.name] = { ...t.spec, host: '127.0.0.1', ...loopback, retry: { maxAttempts: 2, initialDelaySeconds: 0.2 } };
    }
    const secrets = {
      'partner-sftp-credentials': { username: 'loyalty', password: 'demo-sftp-password' },
      'partner-ftps-credentials': { username: 'loyalty', password: 'demo-ftps-password' },
      'partner-ftps-ca': { 'ca.crt': pki.caCert },
      'partner-pgp': { publicKey: partnerKey.publicKey },
    };
    say(`\nExport step: SFTP server on 127.0.0.1:${sftp.port} (host key ${sftp.hostKeyFingerprint} pinned), FTPS server on 127.0.0.1:${ftps.port} (explicit TLS, demo CA)`);

    const run = async (flow: SyncFlow, mode: 'Incremental' | 'Retransfer' = 'Incremental', retransfer?: { runId: string; targets?: string[] }) => {
      let report: ExportRunReport;
      try {
        report = (await runSync({
          flowId: `default/${flow.metadata.name}`,
          spec: flow.spec,
          mode,
          sourceUrl,
          targetUrl: '',
          stateUrl,
          logger,
          export: { targets, secrets, ...(retransfer ? { retransfer } : {}) },
        })) as ExportRunReport;
      } catch (error) {
        if (!(error instanceof RunFailedError)) throw error;
        report = error.report as ExportRunReport;
      }
      const e = report.export;
      say(`  ${flow.metadata.name} (${e.exportMode}): ${e.result}, run ${report.runId.slice(0, 8)}`);
      for (const f of e.files) say(`    ${f.name}: ${f.rows} rows, ${formatBytes(f.bytes)}, sha256 ${f.sha256.slice(0, 16)}…`);
      const byTarget = new Map<string, string[]>();
      for (const t of e.transfers) byTarget.set(t.target, [...(byTarget.get(t.target) ?? []), t.status === 'transferred' ? `${t.remotePath} ✓` : `${t.file} ✗ ${t.reason}`]);
      for (const [target, lines] of byTarget) say(`    -> ${target}: ${lines.join(', ')}`);
      return report;
    };

    const flow = (name: string) => manifests.flows.find((f) => f.metadata.name === name)!;
    say('\nExports, first round (member changes = every member the first time):\n');
    const firstMembers = await run(flow('member-changes'));
    await run(flow('product-items'));
    await run(flow('case-events'));

    const client = new pg.Client({ connectionString: sourceUrl });
    await client.connect();
    try {
      await client.query(`UPDATE members SET points = points + 100, updated_at = now() WHERE id % 40 = 0`);
      await client.query(`UPDATE cases SET status = 'Closed', updated_at = now() WHERE id <= 2`);
      await client.query(`DELETE FROM cases WHERE id = 12`);
    } finally {
      await client.end();
    }
    say('\nChanged 25 members, closed 2 cases, deleted 1 case.');
    say('\nExports, second round: only what changed (member changes) and every case event since the last export:\n');
    await run(flow('member-changes'));
    await run(flow('case-events'));

    say('\nRe-transfer of the first member export to partner-ftps (byte-identical, checked by SHA-256):\n');
    await run(flow('member-changes'), 'Retransfer', { runId: firstMembers.runId, targets: ['partner-ftps'] });

    const store = await openStateStore(stateUrl);
    try {
      say('\n`ferry exports --flow member-changes`:\n');
      say(renderInstances('default/member-changes', await listExportInstances(store.pool, 'default/member-changes')));
    } finally {
      await store.close();
    }
    const listing = (dir: string) => visibleFiles(dir).map((n) => `${n} (${formatBytes(statSync(join(dir, n)).size)})`);
    say(`\nOn the SFTP server: ${listing(sftpRoot).join(', ')}`);
    say(`On the FTPS server: ${listing(ftpsRoot).join(', ')}`);
  } finally {
    await sftp.close();
    await ftps.close();
    rmSync(work, { recursive: true, force: true });
  }
}
