import type { SyncFlow } from '../../api/syncflow.js';
import type { SyncJob } from '../../api/syncjob.js';
import { fileStatuses, type FileStatusRow, type RecordedFile } from '../../connectors/files/file-status.js';
import type { SourceFile } from '../../data-api/objects.js';
import { ConfigError } from '../../util/errors.js';
import { isTerminal } from './format.js';

/** What `kubectl ferry files` cannot show, printed with every listing. */
export const RECORDED_ONLY_NOTE =
  "recorded files only: the cluster view reads the state database through the data API, not the source's location (only a SyncJob's pod has its credentials or volume), so files no run has read yet are not listed; `ferry files -f DIR` lists them, and the next sync imports them";

function recorded(file: SourceFile): RecordedFile {
  return {
    id: Number(file.metadata.name),
    entity: file.entity,
    name: file.fileName,
    sha256: file.sha256,
    size: file.size,
    modifiedAt: new Date(file.modifiedAt),
    path: file.path,
    status: file.status as RecordedFile['status'],
    reason: file.reason ?? null,
    importedAt: file.importedAt ? new Date(file.importedAt) : null,
    rows: file.rows ?? null,
  };
}

/** A flow's files as the cluster knows them: the data API's SourceFiles, and re-imports asked for by SyncJobs that have not ended. */
export function clusterFileStatuses(flow: SyncFlow, files: SourceFile[], jobs: SyncJob[], entity?: string): FileStatusRow[] {
  if (!flow.spec.source.files) throw new ConfigError(`SyncFlow ${flow.metadata.name} has no files source (spec.source.files)`);
  const entities = flow.spec.entities.flatMap((e) => (e.source.file && (!entity || e.name === entity) ? [{ name: e.name, pattern: e.source.file.pattern }] : []));
  if (entity && entities.length === 0) throw new ConfigError(`SyncFlow ${flow.metadata.name} has no files entity "${entity}"`);
  const reimport = jobs.filter((j) => j.spec.flowRef.name === flow.metadata.name && !isTerminal(j)).flatMap((j) => j.spec.reimport ?? []);
  return fileStatuses(entities, files.map(recorded), undefined, reimport);
}
