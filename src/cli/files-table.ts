import { TableClass, yamlPackage } from '../util/on-demand.js';
import type { FileStatusRow } from '../connectors/files/file-status.js';

export const FILES_OUTPUTS = ['table', 'json', 'yaml'] as const;
export type FilesOutput = (typeof FILES_OUTPUTS)[number];

const when = (iso: string | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');

/** The files of a flow as `ferry files` and `kubectl ferry files` print them; `note` says what the listing leaves out. */
export function renderFileStatuses(flow: string, rows: FileStatusRow[], output: FilesOutput, note?: string): string {
  if (output === 'json') return JSON.stringify({ flow, files: rows, ...(note ? { note } : {}) }, null, 2);
  if (output === 'yaml') return yamlPackage().stringify({ flow, files: rows, ...(note ? { note } : {}) }).trimEnd();
  const lines: string[] = [];
  if (rows.length === 0) lines.push(`no files seen for SyncFlow ${flow}`);
  else {
    const Table = TableClass();
    const table = new Table({ head: ['entity', 'file', 'status', 'imported', 'rows', 'size', 'modified', 'detail'], style: { head: [], border: [] } });
    for (const r of rows) table.push([r.entity, r.name, r.status, when(r.importedAt), r.rows ?? '', r.size, when(r.modifiedAt), r.detail]);
    lines.push(table.toString());
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    lines.push([...counts].map(([status, n]) => `${status}: ${n}`).join(', '));
  }
  if (note) lines.push(note);
  return lines.join('\n');
}
