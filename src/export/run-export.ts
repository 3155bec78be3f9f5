import { createHash, randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import { withFlowDefaults, type DefaultedExportSettings } from '../api/defaults.js';
import type { ExportTargetSpec } from '../api/exporttarget.js';
import type { SyncFlowSpec } from '../api/syncflow.js';
import type { EntityReport, RunReport } from '../engine/report.js';
import { buildRunReport } from '../engine/report.js';
import { connect } from '../connectors/postgres/connect.js';
import { withRunRecord, type RunRecordSession } from '../store/run-record.js';
import type { StateClient } from '../store/state-connection.js';
import { readExportRunOrigin, recordExportCreationFailed, recordExportRunCreated, recordExportTransferStatus } from '../store/export-runs.js';
import { exportNamespace, openExportSource } from '../connectors/index.js';
import { RunState, type Watermark } from '../store/run-state.js';
import { ConfigError, FerryError } from '../util/errors.js';
import { filesOfRun, type ArchivedFile } from '../store/export-archive.js';
import { streamExportFile } from '../store/export-file-reads.js';
import { DEFAULT_RETENTION_DAYS, purgeExpired, type ArchiveOptions } from './archive.js';
import { createEntityFiles, fileFormatOf, type CreateContext, type CreatedEntity } from './create-files.js';
import { deliverFiles, type Destination, type TransferOutcome } from './deliver.js';
import { loadEncryptionKeys } from './encrypt.js';
import type { ExportSecrets } from './secrets.js';
import type { ExportRead, ExportSource } from './source.js';
import { resolveTarget } from './transports/index.js';

/** The name a free query's files and watermark go under. */
const QUERY_ENTITY = 'query';

/** What an export run needs beyond the flow: its ExportTargets, Secrets, and for Retransfer the past run. */
export interface ExportContext {
  /** ExportTarget specs by name. */
  targets: Record<string, ExportTargetSpec>;
  secrets: ExportSecrets;
  retransfer?: { runId: string; targets?: string[] };
}

export interface ExportRunRequest {
  flowId: string;
  spec: SyncFlowSpec;
  mode: string;
  runId?: string;
  requestedBy?: string;
  dryRun?: boolean;
  sourceUrl: string;
  stateUrl: string;
  logger: Logger;
  export?: ExportContext;
  /** Notes about the run as a whole, for the report. */
  notes?: string[];
}

/** "file created, all transfers OK" / "file created, some transfers failed" / "file creation failed". */
export type ExportResult = 'AllTransferred' | 'SomeTransfersFailed' | 'CreationFailed';
export type CreationStatus = 'Complete' | 'Failed';
export type OverallTransferStatus = 'Completed' | 'PartiallyFailed' | 'Failed' | 'NotStarted';

export interface ExportSummary {
  result: ExportResult;
  creationStatus: CreationStatus;
  transferStatus: OverallTransferStatus;
  exportMode: string;
  sourceRunId?: string;
  files: Pick<ArchivedFile, 'id' | 'entity' | 'part' | 'name' | 'rows' | 'bytes' | 'sha256'>[];
  transfers: TransferOutcome[];
}

export interface ExportRunReport extends RunReport {
  export: ExportSummary;
}

export function overallTransferStatus(outcomes: TransferOutcome[]): OverallTransferStatus {
  if (outcomes.length === 0) return 'NotStarted';
  const failed = outcomes.filter((o) => o.status !== 'transferred').length;
  if (failed === 0) return 'Completed';
  return failed === outcomes.length ? 'Failed' : 'PartiallyFailed';
}

function destinationsFor(names: string[], context: ExportContext): Destination[] {
  return names.map((name) => {
    const spec = context.targets[name];
    if (!spec) return { name, invalid: `ExportTarget "${name}" not found` };
    if (spec.access === 'ReadOnly') return { name, invalid: `ExportTarget "${name}" is read-only (spec.access: ReadOnly): an export cannot write to it` };
    try {
      return { name, target: resolveTarget(name, spec, context.secrets) };
    } catch (error) {
      return { name, invalid: (error as Error).message };
    }
  });
}

function flowName(flowId: string): string {
  return flowId.slice(flowId.indexOf('/') + 1);
}

/** Reads every entity (or the query) into archived files, inside one state-DB transaction with the new watermarks. */
async function createFiles(ctx: CreateContext, source: ExportSource, spec: SyncFlowSpec, settings: DefaultedExportSettings, runState: RunState): Promise<CreatedEntity[]> {
  const file = fileFormatOf(settings);
  if (settings.query) {
    if (settings.mode === 'Snapshot') {
      const { written } = await source.read({ kind: 'query', query: settings.query }, file, (data) => createEntityFiles(ctx, 'query', data));
      return [written];
    }
    if (settings.mode !== 'Changes' || !settings.changes) {
      throw new ConfigError(`spec.target.export.query: a query is exported in Snapshot mode, or in Changes mode with export.changes (its key and cursor columns), not ${settings.mode}`);
    }
    const after = await runState.readWatermark(QUERY_ENTITY);
    const read: ExportRead = { kind: 'query', query: settings.query, changes: settings.changes, after };
    const { written, next } = await source.read(read, file, (data) => createEntityFiles(ctx, QUERY_ENTITY, data));
    if (next) await runState.writeWatermark(QUERY_ENTITY, next);
    return [written];
  }
  const namespace = exportNamespace(spec);
  const created: CreatedEntity[] = [];
  for (const entity of spec.entities) {
    const after = settings.mode === 'Snapshot' ? undefined : await runState.readWatermark(entity.name);
    const read: ExportRead = settings.mode === 'Events' ? { kind: 'events', entity, namespace, after } : { kind: 'entity', entity, namespace, mode: settings.mode, after };
    const { written, next } = await source.read(read, file, (data) => createEntityFiles(ctx, entity.name, data));
    if (next) await runState.writeWatermark(entity.name, next);
    created.push(written);
  }
  return created;
}

async function verifyArchived(pool: pg.Pool, file: ArchivedFile): Promise<void> {
  if (file.purgedAt) throw new FerryError(`file ${file.name} of run ${file.runId} was removed from the archive on ${file.purgedAt.toISOString()} (retention)`, 1);
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of streamExportFile(pool, file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  if (bytes !== file.bytes || hash.digest('hex') !== file.sha256) {
    throw new FerryError(`archived file ${file.name} of run ${file.runId} does not match its recorded size and SHA-256`, 1);
  }
}

/**
 * One export run: create the files (Changes, Snapshot or Events), archive them with the new
 * watermarks in one commit, then deliver them to every ExportTarget. Or, for Retransfer, send the
 * archived files of a past run again. Never throws for a run that started: the failure comes back
 * with the report so the caller decides how to surface it.
 */
export async function runExport(request: ExportRunRequest): Promise<{ report: ExportRunReport; failure?: unknown }> {
  const { flowId, logger } = request;
  const runId = request.runId ?? randomUUID();
  const context: ExportContext = request.export ?? { targets: {}, secrets: {} };
  const flow = withFlowDefaults(request.spec);
  const settings = flow.target.export;
  let created: CreatedEntity[] = [];
  let files: ArchivedFile[] = [];
  let transfers: TransferOutcome[] = [];
  let creationStatus: CreationStatus = 'Failed';
  let watermarksBefore: Record<string, Watermark> = {};
  let watermarksAfter: Record<string, Watermark> = {};
  const retransfer = request.mode === 'Retransfer' ? context.retransfer : undefined;

  const work = async ({ pool, bookkeeping, startedAt }: RunRecordSession): Promise<void> => {
    const clients: pg.Client[] = [];
    let source: ExportSource | undefined;
    try {
      if (!settings) throw new ConfigError(`SyncFlow ${flowId}: mode ${request.mode} needs spec.target.export`);
      if (request.dryRun) throw new ConfigError(`SyncFlow ${flowId}: exports have no dry run; use \`ferry probe\` to check the destinations`);
      const purged = await purgeExpired(bookkeeping, flowId);
      if (purged > 0) logger.info({ purged }, 'removed export files past their retention');

      if (request.mode === 'Retransfer') {
        if (!retransfer) throw new ConfigError('mode Retransfer needs retransfer.runId (the run whose files are sent again)');
        files = await filesOfRun(bookkeeping, retransfer.runId);
        const origin = await readExportRunOrigin(bookkeeping, retransfer.runId);
        if (files.length === 0 || origin?.flow !== flowId) {
          throw new ConfigError(`run ${retransfer.runId} has no archived export files for flow ${flowId}`);
        }
        for (const file of files) await verifyArchived(pool, file);
        creationStatus = 'Complete';
      } else {
        const encryption = await loadEncryptionKeys(settings.encryption, context.secrets);
        const archive: ArchiveOptions = {
          retentionDays: settings.archive?.retentionDays ?? DEFAULT_RETENTION_DAYS,
          ...(settings.archive?.directory ? { directory: settings.archive.directory } : {}),
        };
        source = await openExportSource(request.spec, request.sourceUrl, logger);
        const state = await connect(request.stateUrl, 'the state database');
        clients.push(state);
        const runState = new RunState(state, flowId, runId);
        watermarksBefore = await runState.readAllWatermarks();
        await state.query('BEGIN');
        try {
          created = await createFiles(
            { state, settings, ...(encryption ? { encryption } : {}), archive, flow: flowId, flowName: flowName(flowId), runId, startedAt, timeZone: settings.timeZone ?? 'UTC' },
            source,
            request.spec,
            settings,
            runState,
          );
          files = created.flatMap((c) => c.files);
          await recordExportRunCreated(state, { runId, flow: flowId, mode: settings.mode, files });
          await state.query('COMMIT');
        } catch (error) {
          await state.query('ROLLBACK').catch(() => {});
          throw error;
        }
        watermarksAfter = await runState.readAllWatermarks();
        creationStatus = 'Complete';
        logger.info({ files: files.length, rows: files.reduce((n, f) => n + f.rows, 0) }, 'export files created and archived');
      }
      if (retransfer) {
        await recordExportRunCreated(bookkeeping, { runId, flow: flowId, mode: 'Retransfer', sourceRunId: retransfer.runId, files });
      }
      const names = retransfer?.targets?.length ? retransfer.targets : settings.targets.map((t) => t.name);
      transfers = await deliverFiles(pool, runId, files, destinationsFor(names, context), logger);
      const failed = transfers.filter((t) => t.status !== 'transferred');
      if (failed.length > 0) {
        const detail = failed.map((t) => `${t.target} ${t.file}: ${t.reason}: ${t.message}`).join('; ');
        throw new FerryError(`file created, ${failed.length} of ${transfers.length} transfers failed: ${detail}`, 1);
      }
    } finally {
      await source?.close().catch(() => {});
      for (const client of clients) await client.end().catch(() => {});
    }
  };

  const report = (failure: unknown, times: { startedAt: Date; completedAt: Date }): ExportRunReport => {
    const transferStatus = creationStatus === 'Complete' ? overallTransferStatus(transfers) : 'NotStarted';
    const result: ExportResult = creationStatus !== 'Complete' ? 'CreationFailed' : transferStatus === 'Completed' ? 'AllTransferred' : 'SomeTransfersFailed';
    return {
      ...buildRunReport({
        runId,
        flow: flowId,
        mode: request.mode,
        dryRun: false,
        ...times,
        watermarksBefore,
        watermarksAfter,
        entities: entityReports(created, files, transfers, retransfer !== undefined),
        rejectedSamples: [],
        ...(request.notes ? { notes: request.notes } : {}),
        failure,
      }),
      export: {
        result,
        creationStatus,
        transferStatus,
        exportMode: retransfer ? 'Retransfer' : (settings?.mode ?? 'unknown'),
        ...(retransfer ? { sourceRunId: retransfer.runId } : {}),
        files: files.map(({ id, entity, part, name, rows, bytes, sha256 }) => ({ id, entity, part, name, rows, bytes, sha256 })),
        transfers,
      },
    };
  };

  const recordEnd = async (bookkeeping: StateClient, report: ExportRunReport): Promise<void> => {
    if (report.export.creationStatus === 'Failed') {
      await recordExportCreationFailed(bookkeeping, {
        runId,
        flow: flowId,
        mode: retransfer ? 'Retransfer' : (settings?.mode ?? request.mode),
        ...(retransfer ? { sourceRunId: retransfer.runId } : {}),
      });
    } else {
      await recordExportTransferStatus(bookkeeping, runId, report.export.transferStatus);
    }
  };

  return withRunRecord({ stateUrl: request.stateUrl, flowId, runId, mode: request.mode, dryRun: false, requestedBy: request.requestedBy }, { work, report, recordEnd });
}

function entityReports(created: CreatedEntity[], files: ArchivedFile[], transfers: TransferOutcome[], isRetransfer: boolean): EntityReport[] {
  const names = [...new Set(files.map((f) => f.entity))];
  return names.map((name) => {
    const own = files.filter((f) => f.entity === name);
    const rows = created.find((c) => c.entity === name)?.rows ?? own.reduce((n, f) => n + f.rows, 0);
    const notes = own.map((f) => `${isRetransfer ? 'archived' : 'created'} ${f.name}: ${f.rows} rows, ${f.bytes} bytes, sha256 ${f.sha256.slice(0, 12)}…`);
    for (const t of transfers.filter((t) => own.some((f) => f.id === t.fileId))) {
      notes.push(
        t.status === 'transferred'
          ? `${t.target}: transferred ${t.file} to ${t.remotePath} (${t.bytes} bytes, ${t.attempts} attempt${t.attempts === 1 ? '' : 's'})`
          : `${t.target}: ${t.file} failed: ${t.reason}: ${t.message}`,
      );
    }
    return {
      name,
      read: rows,
      created: isRetransfer ? 0 : rows,
      updated: 0,
      unchanged: 0,
      archived: 0,
      deleted: 0,
      rejected: 0,
      linked: 0,
      skipped: 0,
      sourceGone: 0,
      durationMs: 0,
      notes,
    };
  });
}
