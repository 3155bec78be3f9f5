import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportTargetSpec } from '../../../src/api/exporttarget.js';
import { runSync } from '../../../src/connectors/run.js';
import { RunFailedError } from '../../../src/engine/run.js';
import { startLoopbackSftp, type LoopbackSftpServer } from '../../../src/export/loopback/sftp-server.js';
import { sourceFiles } from '../../../src/store/source-files.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';
import { sqlRows } from '../../helpers/mini-flow.js';
import { DECRYPTION, drop, encryptFor, filesFlowSpec, inbox, pgpKeys, SECRETS, TARGET_SQL, win1252Gzip, type PgpKeys } from './files-source.js';

const logger = pino({ level: 'silent' });
const NAME = 'employees-20261101.csv.gz.pgp';
const ROWS = 60_000;
// Rows that do not repeat, so that the gzip data (and the encrypted file) is ~1.5 MB: the download
// breaks off long after the decryption and gunzip started on its first pieces.
const CSV = ['no;name;note;salary;born', ...Array.from({ length: ROWS }, (_, i) => `${i};${((i * 2654435761) >>> 0).toString(36)};${Math.sin(i)};10,5;01.01.1990`)].join('\n');

describe('files source over SFTP: a download that breaks off while the file is being decrypted', () => {
  let keys: PgpKeys;
  let dir: string;
  let flaky: LoopbackSftpServer;
  let sound: LoopbackSftpServer;
  let targetUrl: string;
  let stateUrl: string;

  beforeAll(async () => {
    dir = await inbox();
    [keys, targetUrl, stateUrl] = await Promise.all([pgpKeys(), freshDatabase('files_broken_dst'), freshDatabase('files_broken_state')]);
    [flaky, sound] = await Promise.all([
      startLoopbackSftp({ root: dir, username: 'ferry', password: 'pw', dropDownloadAfterBytes: 512 * 1024 }),
      startLoopbackSftp({ root: dir, username: 'ferry', password: 'pw' }),
    ]);
    await withClient(targetUrl, (c) => c.query(TARGET_SQL));
  }, 60_000);

  afterAll(async () => {
    await Promise.all([flaky?.close(), sound?.close()]);
  });

  const run = (server: LoopbackSftpServer) => {
    const targets: Record<string, ExportTargetSpec> = {
      partner: { protocol: 'SFTP', host: '127.0.0.1', port: server.port, directory: '/', credentialsSecretRef: { name: 'creds' }, sftp: { hostKey: server.hostKey }, retries: 0 } as ExportTargetSpec,
    };
    const spec = filesFlowSpec({ exportTargetRef: { name: 'partner' }, decryption: DECRYPTION, settleSeconds: 0, afterImport: 'Move', failedDirectory: 'failed' });
    return runSync({
      flowId: 'test/broken-download',
      spec: { ...spec, batchSize: 5000 },
      mode: 'Full',
      sourceUrl: '',
      targetUrl,
      stateUrl,
      logger,
      files: { targets, secrets: { ...SECRETS(keys), creds: { username: 'ferry', password: 'pw' } } },
    });
  };

  it('fails the run with the connection error, applies nothing, remembers nothing and leaves the file in place; the next run imports it', async () => {
    const bytes = await encryptFor(keys, win1252Gzip(CSV));
    expect(bytes.length).toBeGreaterThan(1024 * 1024);
    await drop(dir, NAME, bytes);

    const failure = await run(flaky).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RunFailedError);
    const message = (failure as Error).message;
    // The network's failure, not a verdict on the file's bytes cut off by it.
    expect(message).not.toMatch(/cannot be imported|cannot decrypt|corrupt gzip|signature/);
    expect(message.split('\n')).toHaveLength(1);
    expect((await sqlRows(targetUrl, 'SELECT count(*)::int AS n FROM staff'))[0]!.n).toBe(0);
    expect(await withClient(stateUrl, (c) => sourceFiles(c, 'test/broken-download'))).toEqual([]);
    expect([existsSync(join(dir, NAME)), existsSync(join(dir, 'failed'))]).toEqual([true, false]);

    const report = await run(sound);
    expect([report.totals.created, report.totals.rejected]).toEqual([ROWS, 0]);
    expect((await withClient(stateUrl, (c) => sourceFiles(c, 'test/broken-download'))).map((f) => [f.name, f.status])).toEqual([[NAME, 'imported']]);
  }, 120_000);
});
