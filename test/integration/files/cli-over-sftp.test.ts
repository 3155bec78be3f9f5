import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLocally } from '../../../src/local/local-run.js';
import { sourceFiles } from '../../../src/store/source-files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { ferry, ferryInBackground, until } from '../../helpers/ferry-process.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { tempDir } from '../export/fixtures.js';
import { twoWayEmployees } from './files-source.js';
import { interopAvailable, startSshd, type Sshd } from '../export/system-servers.js';


const logger = pino({ level: 'silent' });
const FLOW = 'payroll-two-way';
const csv = (...rows: string[]) => ['no,name,note', ...rows, ''].join('\n');

/** A two-way flow: payroll's daily snapshot on real sshd (read through an ExportTarget), the staff table in PostgreSQL. */
function manifests(sshd: Sshd, targetUrl: string): object[] {
  return [
    {
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'ExportTarget',
      metadata: { name: 'payroll-sftp' },
      spec: { protocol: 'SFTP', host: '127.0.0.1', port: sshd.port, directory: sshd.uploadDir, credentialsSecretRef: { name: 'sshd-creds' }, sftp: { hostKey: sshd.hostKey } },
    },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sshd-creds' }, stringData: { username: sshd.user, privateKey: sshd.clientPrivateKey } },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'dst' }, stringData: { url: targetUrl } },
    {
      apiVersion: 'ferry.dev/v1alpha1',
      kind: 'SyncFlow',
      metadata: { name: FLOW },
      spec: {
        direction: 'TwoWay',
        source: { files: { exportTargetRef: { name: 'payroll-sftp' }, subdirectory: 'payroll', settleSeconds: 0, afterImport: 'Leave' } },
        target: { postgres: { secretRef: { name: 'dst' } } },
        entities: [twoWayEmployees(['link', 'createInTarget', 'updateTarget', 'archiveInTarget'])],
      },
    },
  ];
}

/**
 * The local commands that open a flow's systems (`ferry resolve`, `ferry run --watch`,
 * `ferry install-triggers`), run as the real CLI on a files source reached over SFTP through an
 * ExportTarget of the manifests: the same path `ferry run` and `ferry pairs` take.
 */
describe.skipIf(!interopAvailable)('ferry resolve, run --watch and install-triggers on a files source over SFTP (real sshd, real CLI)', () => {
  let sshd: Sshd;
  let dir: string;
  let inbox: string;
  let targetUrl: string;
  let stateUrl: string;
  const cli = (...args: string[]) => ferry([...args, '-f', dir, '--flow', FLOW, '--state-db', stateUrl]);
  const full = async () => (await runLocally({ files: [dir], flow: FLOW, mode: 'Full', stateDb: stateUrl, logger }))[0]!;
  const staff = () => sqlRows(targetUrl, 'SELECT employee_no, name, note FROM staff ORDER BY employee_no');

  beforeAll(async () => {
    [sshd, targetUrl, stateUrl] = await Promise.all([startSshd(), freshDatabase('files_cli_sftp_dst'), freshDatabase('files_cli_sftp_state')]);
    inbox = join(sshd.uploadDir, 'payroll');
    mkdirSync(inbox);
    dir = tempDir('files-cli-sftp');
    writeFileSync(join(dir, 'manifests.yaml'), manifests(sshd, targetUrl).map((d) => JSON.stringify(d)).join('\n---\n'));
    await withClient(targetUrl, (c) =>
      c.query(`CREATE TABLE staff (id bigserial PRIMARY KEY, employee_no text UNIQUE NOT NULL, name text, note text,
        archived boolean NOT NULL DEFAULT false, changed_at timestamptz NOT NULL DEFAULT clock_timestamp());
        CREATE FUNCTION touch() RETURNS trigger AS $$ BEGIN NEW.changed_at := clock_timestamp(); RETURN NEW; END $$ LANGUAGE plpgsql;
        CREATE TRIGGER staff_touch BEFORE UPDATE ON staff FOR EACH ROW EXECUTE FUNCTION touch();`),
    );
  }, 60_000);

  afterAll(async () => {
    await sshd?.close();
  });

  it('ferry resolve: a Manual conflict between the file and the database; keeping the database value is refused, keeping the file value writes it', async () => {
    writeFileSync(join(inbox, 'employees-20261101.csv'), csv('1,Ann,hello', '2,Bob,x'));
    expect((await full()).totals).toMatchObject({ created: 2, rejected: 0 });
    await withClient(targetUrl, (c) => c.query(`UPDATE staff SET note = 'db note' WHERE employee_no = '2'`));
    writeFileSync(join(inbox, 'employees-20261102.csv'), csv('1,Ann,hello', '2,Bob,file note'));
    expect((await full()).entities[0]!.categories).toMatchObject({ synchronised: 1, conflict: 1 });

    const refused = await cli('resolve', '--entity', 'employees', '--key', '2', '--keep', 'target', '-o', 'json');
    expect(refused.code, refused.stderr).toBe(1);
    expect(JSON.parse(refused.stdout).rejectedSamples.map((r: { reason: string }) => r.reason)).toEqual([
      "KeepTarget: the source is read-only: its values cannot be replaced (keep the source's, or Unlink or Deactivate the pair)",
    ]);
    expect((await staff())[1]).toMatchObject({ note: 'db note' });

    const resolved = await cli('resolve', '--entity', 'employees', '--key', '2', '--keep', 'source');
    expect(resolved.code, resolved.stderr).toBe(0);
    expect(await staff()).toEqual([
      { employee_no: '1', name: 'Ann', note: 'hello' },
      { employee_no: '2', name: 'Bob', note: 'file note' },
    ]);
    const after = await full();
    expect(after.entities[0]!.categories).toMatchObject({ synchronised: 2 });
    expect(after.entities[0]!.categories?.conflict ?? 0).toBe(0);
    for (const out of [refused, resolved]) expect(out.stdout + out.stderr).not.toContain(sshd.clientPrivateKey.split('\n')[1]!);
  }, 150_000);

  it('ferry install-triggers says a files source has none; ferry run --watch lists the location every interval and imports a new file', async () => {
    const triggers = await cli('install-triggers');
    expect(triggers.code, triggers.stderr).toBe(0);
    expect(triggers.stdout).toContain('skipped the source: a files source has no change triggers; `ferry run --watch` lists its location every --interval');

    const watch = ferryInBackground(['run', '--watch', '--interval', '1s', '-f', dir, '--flow', FLOW, '--state-db', stateUrl]);
    try {
      await watch.waitFor(/watching: .*; the files source's location is listed every interval/, 90_000);
      writeFileSync(join(inbox, 'employees-20261103.csv'), csv('1,Ann,promoted', '2,Bob,file note', '3,Cid,joined'));
      await until(async () => (await staff()).length === 3 && (await staff())[0]!.note === 'promoted', 90_000);
      // The run that imported it printed its report (runs that write nothing only log).
      await until(async () => /employees/.test(watch.stdout()), 30_000);
      expect(watch.running()).toBe(true);
    } finally {
      watch.stop();
    }
    const out = await watch.done;
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/payroll-two-way · Incremental · Succeeded/);
    expect(out.stdout).toContain('employees: → target: 1 created, 1 updated');
    expect(await staff()).toEqual([
      { employee_no: '1', name: 'Ann', note: 'promoted' },
      { employee_no: '2', name: 'Bob', note: 'file note' },
      { employee_no: '3', name: 'Cid', note: 'joined' },
    ]);
    expect(out.stderr).not.toMatch(/a files source needs|not found/);
  }, 240_000);

  it('ferry pairs reads the file side as a dry run does: a new file is neither recorded nor imported, and the next run imports it', async () => {
    const files = async () => (await withClient(stateUrl, (c) => sourceFiles(c, `default/${FLOW}`))).map((f) => [f.name, f.status]);
    const before = await files();
    writeFileSync(join(inbox, 'employees-20261104.csv'), csv('1,Ann,promoted', '2,Bob,file note', '3,Cid,left early'));
    const listed = await cli('pairs', '--entity', 'employees', '-o', 'json');
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).map((p: { sourceKey: string }) => p.sourceKey)).toEqual(['1', '2', '3']);
    expect(await files()).toEqual(before);
    expect((await staff())[2]).toMatchObject({ note: 'joined' });

    expect((await full()).entities[0]!.twoWay).toMatchObject({ updatedTarget: 1 });
    expect(await files()).toEqual([...before, ['employees-20261104.csv', 'imported']]);
  }, 150_000);
});
