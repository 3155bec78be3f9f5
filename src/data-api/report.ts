import type { StateDb } from '../store/state-connection.js';
import { renderTable, type RunReport } from '../engine/report.js';
import { escapeHtml } from '../report/escape.js';
import { renderReport } from '../report/formats.js';
import { renderRunSummary } from '../report/run-summary.js';
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

const moreHint = (doc: ReportDocument) => (doc.continue ? `… more with ?continue=${doc.continue}` : '');

/**
 * The text form: the run's summary first (the one renderer of the e-mail, `-o markdown|html` and the
 * console), then every entity's counters, then this page of rejected rows.
 */
export function reportText(doc: ReportDocument): string {
  const lines = doc.report ? [renderRunSummary(doc.report).toText(), '', renderTable(doc.report)] : [`run ${doc.metadata.name}: no report yet (the run has not finished)`];
  if (doc.rejectedRows.length) {
    lines.push('', 'rejected rows:');
    for (const r of doc.rejectedRows) lines.push(`  ${r.entity} ${r.key ?? '(no key)'}: ${r.reason}`);
    if (doc.continue) lines.push(`  ${moreHint(doc)}`);
  }
  return lines.join('\n') + '\n';
}

const CELL = 'padding:4px 8px;text-align:left;border-bottom:1px solid #eaeef2;overflow-wrap:anywhere';

/** The HTML form: the same summary and entity table as `-o html` (inline styles, no script), and this page of rejected rows. */
export function reportHtml(doc: ReportDocument): string {
  const rows = doc.rejectedRows
    .map((r) => `<tr><td style="${CELL}">${escapeHtml(r.entity)}</td><td style="${CELL}">${escapeHtml(r.key ?? '')}</td><td style="${CELL}">${escapeHtml(r.reason)}</td><td style="${CELL}">${escapeHtml(r.detail ?? '')}</td></tr>`)
    .join('');
  const head = (cells: string[]) => `<tr>${cells.map((c) => `<th scope="col" style="${CELL};color:#424a53">${c}</th>`).join('')}</tr>`;
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>',
    escapeHtml(`Ferry run ${doc.metadata.name}`),
    '</title></head><body style="margin:16px;font-family:sans-serif;color:#1f2328">',
    doc.report ? renderReport(doc.report, 'html') : `<p>Run ${escapeHtml(doc.metadata.name)}: no report yet (the run has not finished).</p>`,
    rows
      ? `<h2>Rejected rows</h2><table style="border-collapse:collapse"><thead>${head(['Entity', 'Key', 'Reason', 'Detail'])}</thead><tbody>${rows}</tbody></table>${doc.continue ? `<p>${escapeHtml(moreHint(doc))}</p>` : ''}`
      : '',
    '</body></html>\n',
  ].join('');
}
