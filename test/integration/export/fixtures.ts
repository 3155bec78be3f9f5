import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll } from 'vitest';
import type { ExportSettings } from '../../../src/api/export-settings.js';
import type { ExportTargetSpec } from '../../../src/api/exporttarget.js';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import { startLoopbackFtps, type LoopbackFtpsServer } from '../../../src/export/loopback/ftps-server.js';
import { createTestPki, type TestPki } from '../../../src/export/loopback/pki.js';
import { startLoopbackSftp, type LoopbackSftpOptions, type LoopbackSftpServer } from '../../../src/export/loopback/sftp-server.js';
import { runExport, type ExportContext } from '../../../src/export/run-export.js';
import type { ExportSecrets } from '../../../src/export/secrets.js';
import { freshDatabase, withClient } from '../../helpers/databases.js';

export const quietLogger = pino({ level: 'silent' });

const tempDirs: string[] = [];
// Registered at import, so it runs after every suite of the importing file (and its servers) finished.
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `ferry-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

export const SOURCE_SQL = `
CREATE TABLE members (id bigint PRIMARY KEY, name text, email text, points integer, updated_at timestamptz NOT NULL);
CREATE TABLE products (sku text PRIMARY KEY, title text NOT NULL, price numeric(10,2));
CREATE TABLE cases (id bigint PRIMARY KEY, member_id bigint, status text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
`;

export async function exportSource(): Promise<{ sourceUrl: string; stateUrl: string }> {
  const [sourceUrl, stateUrl] = await Promise.all([freshDatabase('exsrc'), freshDatabase('exstate')]);
  await withClient(sourceUrl, (c) => c.query(SOURCE_SQL));
  return { sourceUrl, stateUrl };
}

export const MEMBERS_ENTITY = {
  name: 'members',
  source: { table: 'members', keys: ['id'], updatedAt: 'updated_at' },
  target: { table: 'members', keys: ['member_id'] },
  fields: [
    { source: 'id', target: 'member_id' },
    { source: 'name', target: 'name' },
    { source: 'email', target: 'email' },
    { source: 'points', target: 'points' },
  ],
};

export function exportFlow(settings: Partial<ExportSettings>, entities: SyncFlowSpec['entities'] = [MEMBERS_ENTITY] as SyncFlowSpec['entities']): SyncFlowSpec {
  return {
    direction: 'OneWay',
    source: { postgres: { secretRef: { name: 'src' } } },
    target: {
      export: {
        format: 'Csv',
        mode: 'Snapshot',
        compression: 'None',
        targets: [{ name: 'sftp' }],
        fileNameTemplate: '{entity}_{seq}',
        ...settings,
      } as ExportSettings,
    },
    entities,
  } as SyncFlowSpec;
}

export interface Destinations {
  sftp: LoopbackSftpServer;
  ftps: LoopbackFtpsServer;
  sftpRoot: string;
  ftpsRoot: string;
  pki: TestPki;
  targets: Record<string, ExportTargetSpec>;
  secrets: ExportSecrets;
  close(): Promise<void>;
}

/** An SFTP and an explicit-TLS FTPS server on loopback, with ExportTargets pinned/verified against them. */
export async function startDestinations(sftpOptions: Partial<LoopbackSftpOptions> = {}): Promise<Destinations> {
  const sftpRoot = tempDir('sftp');
  const ftpsRoot = tempDir('ftps');
  const pki = createTestPki(tempDir('pki'));
  const sftp = await startLoopbackSftp({ root: sftpRoot, username: 'ferry', password: 'sftp-secret', ...sftpOptions });
  const ftps = await startLoopbackFtps({ root: ftpsRoot, username: 'ferry', password: 'ftps-secret', tls: { key: pki.serverKey, cert: pki.serverCert } });
  const fast = { maxAttempts: 3, initialDelaySeconds: 0.05, maxDelaySeconds: 0.2 };
  return {
    sftp,
    ftps,
    sftpRoot,
    ftpsRoot,
    pki,
    targets: {
      sftp: { protocol: 'SFTP', host: '127.0.0.1', port: sftp.port, credentialsSecretRef: { name: 'sftp-creds' }, sftp: { hostKey: sftp.hostKey }, retry: fast, timeoutSeconds: 5 },
      ftps: {
        protocol: 'FTPS',
        host: '127.0.0.1',
        port: ftps.port,
        credentialsSecretRef: { name: 'ftps-creds' },
        ftps: { caSecretRef: { name: 'ftps-ca' } },
        retry: fast,
        timeoutSeconds: 5,
      },
    },
    secrets: {
      'sftp-creds': { username: 'ferry', password: 'sftp-secret' },
      'ftps-creds': { username: 'ferry', password: 'ftps-secret' },
      'ftps-ca': { 'ca.crt': pki.caCert },
    },
    close: async () => {
      await sftp.close();
      await ftps.close();
    },
  };
}

/** Visible (non-hidden) files in a destination directory: name -> content. */
export function receivedFiles(dir: string): Map<string, Buffer> {
  return new Map(
    readdirSync(dir)
      .filter((name) => !name.startsWith('.'))
      .sort()
      .map((name) => [name, readFileSync(join(dir, name))]),
  );
}

export async function exportOnce(
  urls: { sourceUrl: string; stateUrl: string },
  spec: SyncFlowSpec,
  context: ExportContext,
  options: { mode?: string; flowId?: string } = {},
) {
  return runExport({
    flowId: options.flowId ?? 'default/loyalty',
    spec,
    mode: options.mode ?? 'Incremental',
    sourceUrl: urls.sourceUrl,
    stateUrl: urls.stateUrl,
    logger: quietLogger,
    export: context,
  });
}
