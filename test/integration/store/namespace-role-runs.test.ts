import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSync } from '../../../src/connectors/run.js';
import { openStateStore } from '../../../src/store/db.js';
import { issueNamespaceCredential, namespaceStateUrl } from '../../../src/store/tenant-roles.js';
import { createLogger } from '../../../src/util/logger.js';
import type { SyncMode } from '../../../src/api/common.js';
import type { RunRequest } from '../../../src/engine/run.js';
import { closureDatabases, closureFlowSpec } from '../../helpers/closure-flow.js';
import { sourceFiles } from '../../../src/store/source-files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { DECRYPTION, drop, encryptFor, filesFlowSpec, inbox, pgpKeys, runFilesFlow, TARGET_SQL, win1252Gzip } from '../files/files-source.js';
import { seededMiniRun, sqlRows } from '../../helpers/mini-flow.js';
import { entityOf, peopleEntity, twoWaySpec, twoWayWorld } from '../engine/two-way-fixture.js';
import { exportFlow, exportOnce, exportSource, startDestinations, type Destinations } from '../export/fixtures.js';

/**
 * The runs a sync Job makes, with a namespace's credential as the Job has it (the state database
 * migrated by the owner first, as the controller does): none of them needs more than the namespace role.
 */
const logger = createLogger({ level: 'silent', pretty: false });

/** The state database at `ownerUrl` migrated by its owner, and the URL of `namespace`'s own role on it. */
async function namespaceUrl(ownerUrl: string, namespace: string): Promise<string> {
  await (await openStateStore(ownerUrl)).close();
  const credential = await withClient(ownerUrl, (c) => issueNamespaceCredential(c, namespace));
  return namespaceStateUrl(ownerUrl, credential);
}

describe('runs under a namespace role', () => {
  let servers: Destinations;
  beforeAll(async () => {
    servers = await startDestinations();
  });
  afterAll(async () => {
    await servers?.close();
  });

  it('Full and Incremental one-way runs', async () => {
    const { dbs, base } = await seededMiniRun('team-a/mini', logger);
    const stateUrl = await namespaceUrl(dbs.stateUrl, 'team-a');
    const full = await runSync({ ...base, stateUrl, mode: 'Full' });
    expect(full.totals.created).toBeGreaterThan(0);
    await sqlRows(dbs.sourceUrl, `UPDATE people SET name = 'Ann B', updated_at = now() WHERE id = 10`);
    const incremental = await runSync({ ...base, stateUrl, mode: 'Incremental' });
    expect(incremental.totals.updated).toBe(1);
    expect(await sqlRows(dbs.targetUrl, `SELECT count(*)::int AS n FROM people WHERE full_name = 'Ann B'`)).toEqual([{ n: 1 }]);
    // Another namespace's role cannot run this flow: its rows are not its to write.
    const other = await namespaceUrl(dbs.stateUrl, 'team-b');
    await expect(runSync({ ...base, stateUrl: other, mode: 'Full' })).rejects.toThrow(/row-level security/);
  });

  it('a two-way run', async () => {
    const w = await twoWayWorld();
    const stateUrl = await namespaceUrl(w.stateUrl, 'test');
    await w.church(`INSERT INTO people (first_name, last_name, email, status, family_status) VALUES ('Ann', 'Lee', 'ann@example.org', 'Member', 'single')`);
    await w.accounts(`INSERT INTO persons (name_first, name_last, mail, category, marital) VALUES ('Bo', 'Ma', 'bo@example.org', 'Member', 'single')`);
    const report = await runSync({ flowId: 'test/two-way', spec: twoWaySpec([peopleEntity()]), mode: 'Full', sourceUrl: w.sourceUrl, targetUrl: w.targetUrl, stateUrl, logger });
    expect(entityOf(report).created).toBe(2);
    expect(await w.state(`SELECT count(*)::int AS n FROM ferry.pairs JOIN ferry.pair_scopes ON id = scope WHERE flow = 'test/two-way'`)).toEqual([{ n: 2 }]);
  });

  it('two-way Resolve and Record runs', async () => {
    const w = await twoWayWorld();
    const stateUrl = await namespaceUrl(w.stateUrl, 'test');
    const spec = twoWaySpec([peopleEntity({ conflictPolicy: 'Manual' })]);
    const run = (mode: SyncMode, extra: Partial<RunRequest> = {}) =>
      runSync({ flowId: 'test/two-way', spec, mode, sourceUrl: w.sourceUrl, targetUrl: w.targetUrl, stateUrl, logger, ...extra });
    await w.church(`INSERT INTO people (first_name, last_name, email, status, family_status) VALUES ('Ann', 'Lee', 'ann@example.org', 'Member', 'single')`);
    expect(entityOf(await run('Full')).created).toBe(1);
    await w.church(`UPDATE people SET email = 'ann@church.org'`);
    await w.accounts(`UPDATE persons SET mail = 'ann@accounts.org'`);
    await run('Full');
    expect(await w.state(`SELECT category FROM ferry.pairs`)).toEqual([{ category: 'conflict' }]);
    const [{ id }] = await w.church(`SELECT id FROM people`);
    const resolved = await run('Resolve', { resolutions: [{ entity: 'people', sourceKey: String(id), action: 'KeepSource' }] });
    expect(resolved.rejectedSamples).toEqual([]);
    expect(await w.accounts(`SELECT mail FROM persons`)).toEqual([{ mail: 'ann@church.org' }]);
    expect(await w.state(`SELECT category FROM ferry.pairs`)).toEqual([{ category: 'synchronised' }]);
    await w.church(`UPDATE people SET last_name = 'Record', updated_at = now()`);
    const recorded = await run('Record', { record: { entity: 'people', key: String(id) } });
    expect(entityOf(recorded).updated).toBe(1);
    expect(await w.accounts(`SELECT name_last FROM persons`)).toEqual([{ name_last: 'Record' }]);
    // The runs were written as the namespace's role.
    expect((await w.state(`SELECT mode FROM ferry.runs ORDER BY started_at`)).map((r) => r.mode)).toEqual(['Full', 'Full', 'Resolve', 'Record']);
  });

  it('Scope runs (Full and Incremental within a scope)', async () => {
    const dbs = await closureDatabases();
    const stateUrl = await namespaceUrl(dbs.stateUrl, 'test');
    const base = { flowId: 'test/closure', spec: closureFlowSpec(), sourceUrl: dbs.sourceUrl, targetUrl: dbs.targetUrl, stateUrl, logger };
    const full = await runSync({ ...base, mode: 'Scope', scope: 'events', scopeMode: 'Full' });
    expect(full.totals.created).toBeGreaterThan(0);
    expect(full.rejectedSamples).toEqual([]);
    const incremental = await runSync({ ...base, mode: 'Scope', scope: 'events' });
    expect(incremental.totals.created + incremental.totals.updated).toBe(0);
  });

  it('a files-source run (signed, encrypted CSV moved to processed/ and recorded in ferry.source_files)', async () => {
    const keys = await pgpKeys();
    const dir = await inbox();
    const [targetUrl, ownerStateUrl] = await Promise.all([freshDatabase('ns_files_dst'), freshDatabase('ns_files_state')]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
    const stateUrl = await namespaceUrl(ownerStateUrl, 'payroll');
    await drop(dir, 'employees-20261101.csv.gz.pgp', await encryptFor(keys, win1252Gzip('no;name;note;salary;born\r\n1;Ann;;3200,50;01.02.1980\r\n')));
    const report = await runFilesFlow({
      flowId: 'payroll/employees',
      spec: filesFlowSpec({ directory: dir, decryption: DECRYPTION, settleSeconds: 0, afterImport: 'Move' }),
      mode: 'Full',
      targetUrl,
      stateUrl,
      keys,
    });
    expect(report.rejectedSamples).toEqual([]);
    expect(await sqlRows(targetUrl, 'SELECT employee_no, name FROM staff')).toEqual([{ employee_no: '1', name: 'Ann' }]);
    const files = await withClient(ownerStateUrl, (c) => sourceFiles(c, 'payroll/employees'));
    expect(files.map((f) => [f.name, f.status])).toEqual([['employees-20261101.csv.gz.pgp', 'imported']]);
  });

  it('an export and a re-transfer of its file', async () => {
    const urls = await exportSource();
    await withClient(urls.sourceUrl, (c) => c.query(`INSERT INTO members SELECT g, 'M' || g, NULL, g, now() FROM generate_series(1, 50) g`));
    const stateUrl = await namespaceUrl(urls.stateUrl, 'default');
    const spec = exportFlow({ fileNameTemplate: 'ns_{entity}' });
    const context = { targets: servers.targets, secrets: servers.secrets };
    const first = await exportOnce({ ...urls, stateUrl }, spec, context, { flowId: 'default/ns-export' });
    expect(first.failure).toBeUndefined();
    expect(first.report.export.files.map((f) => f.rows)).toEqual([50]);
    const again = await exportOnce({ ...urls, stateUrl }, spec, { ...context, retransfer: { runId: first.report.runId } }, { flowId: 'default/ns-export', mode: 'Retransfer' });
    expect(again.failure).toBeUndefined();
    expect(again.report.export.result).not.toBe('CreationFailed');
  });
});
