import type { StateDb } from '../store/state-connection.js';
import { renderTable, type RunReport } from '../engine/report.js';
import { rejectedRows, runReport, searchRejectedRows, type RejectedRowRecord } from '../store/run-reads.js';
import { GROUP_VERSION, type ObjectMeta } from './objects.js';

export type ReportFormat = 'json' | 'text' | 'html';

export interface ReportDocument {
  apiVersion: typeof GROUP_VERSION;
  kind: 'RunReport';
  metadata: ObjectMeta;
  report?: RunReport;
  /** One page of the run's rejected rows with reasons (the report itself keeps only a sample). */
  rejectedRows: { entity: string; key: string | null; reason: string; detail: string | null; at: string }[];
  continue?: string;
}

export function reportFormat(value: string | null): ReportFormat | undefined {
  const format = value ?? 'json';
  return format === 'json' || format === 'text' || format === 'html' ? format : undefined;
}

/** The report subresource: the stored report and one page of rejected rows (paged by their id). */
export async function loadReport(pool: StateDb, run: ObjectMeta, page: { afterId?: number; limit: number; search?: string }): Promise<ReportDocument> {
  const { search, ...position } = page;
  const [report, found] = await Promise.all([
    runReport(pool, run.name),
    search === undefined
      ? rejectedRows(pool, run.name, { ...position, limit: page.limit + 1 }).then((rows) => ({ rows, scanEndId: undefined }))
      : searchRejectedRows(pool, run.name, { ...position, limit: page.limit + 1, text: search }),
  ]);
  const rows = found.rows;
  const more = rows.length > page.limit;
  const shown: RejectedRowRecord[] = more ? rows.slice(0, page.limit) : rows;
  // A search whose scanned window ended before a full page goes on after that window.
  const next = more ? shown[shown.length - 1].id : found.scanEndId;
  return {
    apiVersion: GROUP_VERSION,
    kind: 'RunReport',
    metadata: run,
    ...(report ? { report } : {}),
    rejectedRows: shown.map((r) => ({ entity: r.entity, key: r.sourceKey, reason: r.reason, detail: r.detail, at: r.at.toISOString() })),
    ...(next !== undefined ? { continue: String(next) } : {}),
  };
}

export function reportText(doc: ReportDocument): string {
  const lines = [doc.report ? renderTable(doc.report) : `run ${doc.metadata.name}: no report yet (the run has not finished)`];
  if (doc.rejectedRows.length) {
    lines.push('', 'rejected rows:');
    for (const r of doc.rejectedRows) lines.push(`  ${r.entity} ${r.key ?? '(no key)'}: ${r.reason}`);
    if (doc.continue) lines.push(`  … more with ?continue=${doc.continue}`);
  }
  return lines.join('\n') + '\n';
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function reportHtml(doc: ReportDocument): string {
  const rows = doc.rejectedRows.map((r) => `<tr><td>${escapeHtml(r.entity)}</td><td>${escapeHtml(r.key ?? '')}</td><td>${escapeHtml(r.reason)}</td></tr>`).join('');
  return [
    '<!doctype html><html><head><meta charset="utf-8"><title>', escapeHtml(`Ferry run ${doc.metadata.name}`), '</title></head><body>',
    '<pre>', escapeHtml(doc.report ? renderTable(doc.report) : 'no report yet'), '</pre>',
    rows ? `<h2>Rejected rows</h2><table><thead><tr><th>entity</th><th>key</th><th>reason</th></tr></thead><tbody>${rows}</tbody></table>` : '',
    '</body></html>\n',
  ].join('');
}
