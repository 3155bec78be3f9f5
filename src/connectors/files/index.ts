import type { FilesEndpoint } from '../../api/files.js';
import type { SyncFlowSpec } from '../../api/syncflow.js';
import type { Connector, Session } from '../../engine/connector.js';
import { StagedRows } from '../../store/staged-rows.js';
import { FileSideRecords } from '../../store/file-side-records.js';
import { markFilesImported, markImportedAgain, recordFileMoved, sourceFiles } from '../../store/source-files.js';
import { StateConnection } from '../../store/state-connection.js';
import { failpoint } from '../../util/failpoint.js';
import { ENV_SCRATCH_LIMIT, keptCopiesBytes } from '../../util/scratch.js';
import { Inventory, type ReadyFile } from './inventory.js';
import { loadDecryptionKeys } from './keys.js';
import { moveIntoFolder, openLocation, type FileLocation, type FileLocationContext } from './location.js';
import { dialectOf } from './parse.js';
import { FilesSession, type FileEntity } from './session.js';
import type { StagedSideRow } from './side-reader.js';

export { FILES_CAPABILITIES } from './session.js';

/** What a files source needs besides its spec: the flow (its files are remembered per flow), the state DB, ExportTargets and Secrets. */
export interface FilesContext extends FileLocationContext {
  flowId: string;
  stateUrl: string;
  runId?: string;
  /** Names of files to import again although they were imported (`ferry run --reimport`). */
  reimport?: string[];
  /** A dry run: no file is recorded, marked failed or moved (to processed/ or failed/), no reason file written. */
  dryRun?: boolean;
  /** Bytes a snapshot file's keys may take in memory before a key census counts them (tests make them few). */
  keyMemoryBytes?: number;
  /** Bytes of decoded files kept on the scratch disk for later reads (unset: half the Job's scratch space, see `keptCopiesBytes`). */
  keptCopiesBytes?: number;
}

/** What every session of one run shares: one connection to the files, one inventory, the files read to their end. */
interface Shared {
  location: FileLocation;
  state: StateConnection;
  inventory: Inventory;
}

/**
 * Partner files (CSV, JSON Lines; gzip, zip; OpenPGP) in a directory or on an SFTP/FTPS server as a
 * read-only source. Sessions of one run share the listing and the downloaded files; `finishRun`
 * records the files read to their end as imported (and moves them to processed/ when asked).
 */
export function filesConnector(spec: SyncFlowSpec, context: FilesContext): Connector {
  const endpoint: FilesEndpoint = spec.source.files!;
  let shared: Promise<Shared> | undefined;
  let sessions = 0;
  // Outlives the sessions: the engine closes them before the run's end is known.
  const consumed = new Map<number, ReadyFile>();
  // The listings' warnings (files left out), kept past the sessions for the run's report.
  const notes = new Set<string>();
  // Two-way side rows, per entity, made ready once per run (staged in temporary tables of the shared state connection, or a Delta side's records brought up to date).
  const sideRows = new Map<string, Promise<unknown>>();
  const oncePerRun = <T>(name: string, make: () => Promise<T>): Promise<T> => {
    let ready = sideRows.get(name) as Promise<T> | undefined;
    if (!ready) sideRows.set(name, (ready = make()));
    return ready;
  };

  const openShared = (): Promise<Shared> =>
    (shared ??= (async () => {
      // The state DB and the files' server are reached side by side (an SFTP handshake takes ~0.1-0.4 s).
      const [state, location] = await Promise.allSettled([StateConnection.open(context.stateUrl), openLocation(endpoint, context)]);
      if (state.status === 'rejected' || location.status === 'rejected') {
        await Promise.all([state.status === 'fulfilled' && state.value.close(), location.status === 'fulfilled' && location.value.close().catch(() => {})]);
        throw state.status === 'rejected' ? state.reason : (location as PromiseRejectedResult).reason;
      }
      let keys: ReturnType<typeof loadDecryptionKeys> | undefined;
      const inventory = new Inventory(location.value, endpoint, state.value.client, context.flowId, () => (keys ??= loadDecryptionKeys(endpoint.decryption, context.secrets)), context.runId ?? 'unknown', {
        ...(context.reimport ? { reimport: context.reimport } : {}),
        ...(context.dryRun ? { dryRun: true } : {}),
        keptBytes: context.keptCopiesBytes ?? keptCopiesBytes(process.env[ENV_SCRATCH_LIMIT]),
      });
      return { location: location.value, state: state.value, inventory };
    })());

  const closeShared = async () => {
    const current = shared;
    shared = undefined;
    sideRows.clear();
    if (!current) return;
    const { location, state, inventory } = await current;
    for (const warning of location.warnings()) notes.add(warning);
    await Promise.all([location.close().catch(() => {}), state.close(), inventory.close().catch(() => {})]);
  };

  const entities = (s: Shared) =>
    new Map<string, FileEntity>(
      spec.entities
        .filter((e) => e.source.file)
        .map((e) => {
          const file = e.source.file!;
          return [
            e.source.table,
            {
              entity: e.name,
              file,
              dialect: dialectOf(file),
              referenced: [...e.source.keys, ...(e.source.conditions ?? []).map((c) => c.field), ...e.fields.map((f) => f.source), ...(e.match ?? []).map((m) => m.source)],
              files: {
                pending: () => s.inventory.pendingFiles(e.name, file),
                newestImported: () => s.inventory.newestImported(e.name, file),
                consumed: (files) => files.forEach((f) => consumed.set(f.record.id, f)),
                ...(context.keyMemoryBytes ? { keyMemoryBytes: context.keyMemoryBytes } : {}),
              },
              sideRows: (fill) =>
                oncePerRun(`staged ${e.name}`, async () => {
                  const stage = await StagedRows.create<StagedSideRow>(s.state.client);
                  await fill(stage);
                  return stage;
                }),
              sideRecords: (fill) =>
                oncePerRun(`records ${e.name}`, async () => {
                  // A dry run's lines go to a copy of the records: a real run applies the same files later.
                  const records = context.dryRun
                    ? await FileSideRecords.dryRunCopy<StagedSideRow>(s.state.client, context.flowId, e.name)
                    : new FileSideRecords<StagedSideRow>(s.state.client, context.flowId, e.name);
                  await fill(records);
                  return records;
                }),
              imported: async () => (await sourceFiles(s.state.client, context.flowId, e.name)).filter((f) => f.status === 'imported'),
            },
          ];
        }),
    );

  return {
    kind: 'files',
    what: 'the source files',
    async open(): Promise<Session> {
      const s = await openShared();
      sessions++;
      return new FilesSession(entities(s), async () => {
        if (--sessions === 0) await closeShared();
      });
    },
    runNotes: () => [...notes],
    async finishRun({ runId }): Promise<void> {
      // Every row is committed to the target, no file is recorded imported yet (crash tests).
      failpoint('files:finish-run');
      const files = [...consumed.values()].filter((f) => f.record.status === 'pending');
      consumed.clear();
      // The engine does not finish a dry run; should one ever be, it records and moves nothing.
      if (files.length === 0 || context.dryRun) return;
      // The run's end comes before it closes its sessions: their state connection and location, idle
      // by now, serve here (a connection of its own costs a handshake, an SFTP one a few hundred ms).
      const open = shared && (await shared);
      const state = open ? open.state : await StateConnection.open(context.stateUrl);
      try {
        const again = files.flatMap((f) => (f.replaces === undefined ? [] : [{ id: f.record.id, replaces: f.replaces, rows: f.rows }]));
        await markImportedAgain(state.client, again, runId);
        await markFilesImported(state.client, files.filter((f) => f.replaces === undefined).map((f) => ({ id: f.record.id, rows: f.rows })), runId);
        if (endpoint.afterImport === 'Move') await moveProcessed(endpoint, open ? open.location : openLocation(endpoint, context), !open, state, files);
      } finally {
        if (!open) await state.close();
      }
    },
  };
}

/** Moves imported files to the processed directory (a file already moved away stays where it is); closes the location when `owned`. */
async function moveProcessed(endpoint: FilesEndpoint, opening: FileLocation | Promise<FileLocation>, owned: boolean, state: StateConnection, files: ReadyFile[]): Promise<void> {
  const location = await opening;
  try {
    const processed = endpoint.processedDirectory ?? 'processed';
    for (const { record } of files) {
      if (record.path !== record.name) continue;
      await recordFileMoved(state.client, record.id, await moveIntoFolder(location, record.path, processed, record.name));
    }
  } finally {
    if (owned) await location.close();
  }
}
