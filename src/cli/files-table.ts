import { ConfigError } from '../util/errors.js';
import { TableClass, yamlPackage } from '../util/on-demand.js';
import type { FileState, FileStatusRow } from '../connectors/files/file-status.js';

export const FILES_OUTPUTS = ['table', 'json', 'yaml'] as const;
export type FilesOutput = (typeof FILES_OUTPUTS)[number];

export const FILE_STATES: readonly FileState[] = ['imported', 'unchanged', 'pending', 'failed', 'reimport-requested'];

/** Files printed per entity unless `--limit` says otherwise: a flow fed daily for years has thousands. */
export const DEFAULT_FILES_LIMIT = 50;

export interface FilesShown {
  /** The newest files per entity to print; 0 prints all. Default DEFAULT_FILES_LIMIT. */
  limit?: number;
  /** Only the files in this state. */
  status?: FileState;
}

/** `--limit N`: a whole number, 0 for all. */
export function parseFilesLimit(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new ConfigError(`--limit takes a whole number (0 for all), got "${value}"`);
  return n;
}

const when = (iso: string | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');

/**
 * The rows to print: per entity the last `limit` (rows come in the order files apply, then the
 * pending ones, so the last are the newest), and how many each entity left out.
 */
function bounded(rows: FileStatusRow[], limit: number): { shown: FileStatusRow[]; more: Record<string, number> } {
  if (limit === 0) return { shown: rows, more: {} };
  const total = new Map<string, number>();
  for (const r of rows) total.set(r.entity, (total.get(r.entity) ?? 0) + 1);
  const seen = new Map<string, number>();
  const shown = rows.filter((r) => {
    const index = seen.get(r.entity) ?? 0;
    seen.set(r.entity, index + 1);
    return index >= total.get(r.entity)! - limit;
  });
  const more = Object.fromEntries([...total].filter(([, n]) => n > limit).map(([entity, n]) => [entity, n - limit]));
  return { shown, more };
}

function countsOf(rows: FileStatusRow[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of rows) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/**
 * The files of a flow as `ferry files` and `kubectl ferry files` print them, bounded: the newest
 * `shown.limit` per entity, the number left out, and the counts of every file; `note` says what
 * the listing leaves out.
 */
export function renderFileStatuses(flow: string, rows: FileStatusRow[], output: FilesOutput, note?: string, options: FilesShown = {}): string {
  const selected = options.status ? rows.filter((r) => r.status === options.status) : rows;
  const { shown, more } = bounded(selected, options.limit ?? DEFAULT_FILES_LIMIT);
  const counts = countsOf(selected);
  const document = { flow, files: shown, counts, ...(Object.keys(more).length ? { more } : {}), ...(note ? { note } : {}) };
  if (output === 'json') return JSON.stringify(document, null, 2);
  if (output === 'yaml') return yamlPackage().stringify(document).trimEnd();
  const lines: string[] = [];
  if (selected.length === 0) lines.push(options.status ? `no ${options.status} files for SyncFlow ${flow} (of ${rows.length} files)` : `no files seen for SyncFlow ${flow}`);
  else {
    const Table = TableClass();
    const table = new Table({ head: ['entity', 'file', 'status', 'imported', 'rows', 'size', 'modified', 'detail'], style: { head: [], border: [] } });
    for (const r of shown) table.push([r.entity, r.name, r.status, when(r.importedAt), r.rows ?? '', r.size, when(r.modifiedAt), r.detail]);
    lines.push(table.toString());
    for (const [entity, n] of Object.entries(more)) lines.push(`${entity}: ${n} more, older files not shown (--limit N shows N per entity, --limit 0 all; --status filters)`);
    const of = options.status ? ` (of ${rows.length} files)` : '';
    lines.push(Object.entries(counts).map(([status, n]) => `${status}: ${n}`).join(', ') + of);
  }
  if (note) lines.push(note);
  return lines.join('\n');
}
