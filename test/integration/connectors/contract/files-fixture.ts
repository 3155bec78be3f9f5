import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withFlowDefaults } from '../../../../src/api/defaults.js';
import type { Entity } from '../../../../src/api/entity.js';
import type { FileSource, FilesEndpoint } from '../../../../src/api/files.js';
import type { SyncFlowSpec } from '../../../../src/api/syncflow.js';
import { filesConnector } from '../../../../src/connectors/files/index.js';
import type { FileLocationContext } from '../../../../src/connectors/files/location.js';
import { postgresConnector } from '../../../../src/connectors/postgres/index.js';
import type { Connector, Session } from '../../../../src/engine/connector.js';
import { openStateStore } from '../../../../src/store/db.js';
import { planFlow, type EntityPlan } from '../../../../src/engine/plan.js';
import { freshDatabase } from '../../../helpers/databases.js';
import { testDatabase, type TestDatabase } from '../../../helpers/pairings.js';
import type { Sshd } from '../../export/system-servers.js';
import { sessionsOf } from './setup.js';

/** A CSV file's text: every value quoted (so spaces, quotes and backslashes stay data), `null` as an empty unquoted field. */
export function csvText(header: string[], rows: (string | number | null)[][]): string {
  const field = (v: string | number | null) => (v === null ? '' : `"${String(v).replace(/"/g, '""')}"`);
  return [header.join(','), ...rows.map((r) => r.map(field).join(','))].join('\n') + '\n';
}

/** A snapshot CSV per entity, named `<table>-<n>.csv` (n orders them). */
export const snapshotFile = (table: string): FileSource => ({ pattern: `${table}-*.csv`, contents: 'Snapshot', orderCapture: '-(\\d+)\\.csv' });

export interface FilesFixture {
  dir: string;
  /** ExportTargets and Secrets a run needs to reach the files (none for a local directory). */
  context: FileLocationContext;
  stateUrl: string;
  /** A PostgreSQL database holding the target tables (a files source syncs into a database). */
  target: TestDatabase;
  spec: SyncFlowSpec;
  connector: Connector;
  open(): Promise<Session>;
  /** The engine's plan of an entity whose source table is one of the spec's (its other parts may differ). */
  plan(entity: Entity): Promise<EntityPlan>;
  /** A session of a later run of the same flow (it lists the files again: one run lists them once). */
  nextRun(): Promise<Session>;
  /** Drops a CSV file into the directory, as a partner would. */
  drop(name: string, header: string[], rows: (string | number | null)[][]): Promise<void>;
  close(): Promise<void>;
}

/** Where the partner's files are: a local directory, or a subdirectory of the tests' loopback OpenSSH sshd (internal-sftp). */
async function location(prefix: string, sshd?: Sshd): Promise<{ dir: string; endpoint: FilesEndpoint; context: FileLocationContext }> {
  if (!sshd) {
    const dir = await mkdtemp(join(tmpdir(), `ferry-contract-${prefix}-`));
    return { dir, endpoint: { directory: dir }, context: { targets: {}, secrets: {} } };
  }
  const dir = await mkdtemp(join(sshd.uploadDir, `${prefix}-`));
  const subdirectory = dir.slice(sshd.uploadDir.length + 1);
  return {
    dir,
    endpoint: { exportTargetRef: { name: 'sshd' }, subdirectory },
    context: {
      targets: { sshd: { protocol: 'SFTP', host: '127.0.0.1', port: sshd.port, directory: sshd.uploadDir, credentialsSecretRef: { name: 'sshd-creds' }, sftp: { hostKey: sshd.hostKey } } },
      secrets: { 'sshd-creds': { username: sshd.user, privateKey: sshd.clientPrivateKey } },
    },
  };
}

/**
 * The contract suite's files counterpart of a SQL fixture: CSV files written into a fresh directory,
 * local or reached over SFTP (what a test writes is what the partner sent), a files connector on it
 * with its own state database, and the target tables from `targetDdl` in PostgreSQL.
 */
export async function initFilesContract(prefix: string, targetDdl: string, entities: Entity[], sshd?: Sshd): Promise<FilesFixture> {
  const { dir, endpoint, context } = await location(prefix, sshd);
  const [stateUrl, target] = await Promise.all([freshDatabase(`${prefix}_state`), testDatabase('postgres', `${prefix}_dst`)]);
  await target.exec(targetDdl);
  // The files it has seen live in the state database: bring its schema up, as a run would.
  await (await openStateStore(stateUrl)).close();
  const spec = {
    direction: 'OneWay',
    source: { files: { ...endpoint, settleSeconds: 0 } },
    target: { postgres: { secretRef: { name: 'dst' } } },
    entities: entities.map((e) => ({ ...e, source: { ...e.source, file: e.source.file ?? snapshotFile(e.source.table) } })),
  } as SyncFlowSpec;
  const connectorFor = () => filesConnector(spec, { flowId: `contract/${prefix}`, stateUrl, ...context });
  const connector = connectorFor();
  const { open, closeAll } = sessionsOf(connector);
  // A run lists the files once; a later run is a new connector.
  const later: ReturnType<typeof sessionsOf>[] = [];
  const targetSession = await postgresConnector(target.url, 'the contract target').open();
  return {
    dir,
    context,
    stateUrl,
    target,
    spec,
    connector,
    open,
    async plan(entity) {
      const withFile = { ...entity, source: { ...entity.source, file: spec.entities.find((e) => e.source.table === entity.source.table)!.source.file } };
      const sourceCatalog = await (await open()).readCatalog('', [entity.source.table]);
      const targetCatalog = await targetSession.readCatalog('', [entity.target.table]);
      return planFlow(withFlowDefaults({ ...spec, entities: [withFile] }), (side, table) => (side === 'source' ? sourceCatalog : targetCatalog).get(table)).entities[0];
    },
    nextRun() {
      const sessions = sessionsOf(connectorFor());
      later.push(sessions);
      return sessions.open();
    },
    drop: (name, header, rows) => writeFile(join(dir, name), csvText(header, rows)),
    async close() {
      await Promise.all([closeAll(), ...later.map((l) => l.closeAll()), targetSession.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
