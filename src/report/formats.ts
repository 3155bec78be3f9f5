/**
 * A run report in the formats `ferry run -o ...` prints. Markdown and HTML start with the run summary
 * (the same one as the e-mail and the console), then list every entity with every counter.
 */
import { COUNTER_COLUMNS, formatDuration, renderJson, renderTable, type RunReport } from '../engine/report.js';
import { escapeHtml, escapeMarkdown } from './escape.js';
import { formatCount } from './summary.js';
import { renderRunSummary, type SummaryContext } from './run-summary.js';

export type ReportFormat = 'table' | 'json' | 'markdown' | 'html';

const counterValues = (e: Record<(typeof COUNTER_COLUMNS)[number], number>) => COUNTER_COLUMNS.map((c) => formatCount(e[c]));

function markdownTable(report: RunReport): string {
  const rows = report.entities.map((e) => `| ${escapeMarkdown(e.name)} | ${counterValues(e).join(' | ')} | ${formatDuration(e.durationMs)} |`);
  rows.push(`| **total** | ${counterValues(report.totals).map((v) => `**${v}**`).join(' | ')} | ${formatDuration(report.durationMs)} |`);
  return ['#### All entities', '', `| entity | ${COUNTER_COLUMNS.join(' | ')} | duration |`, `|---|${COUNTER_COLUMNS.map(() => '---:').join('|')}|---:|`, ...rows].join('\n');
}

const TH = 'padding:4px 8px;text-align:right;border-bottom:1px solid #d0d7de;color:#424a53';
const TD = 'padding:4px 8px;text-align:right;border-bottom:1px solid #eaeef2';
const NAME = 'padding:4px 8px;text-align:left;border-bottom:1px solid #eaeef2;overflow-wrap:anywhere';

function htmlTable(report: RunReport): string {
  const row = (name: string, values: string[], duration: string, tag: 'td' | 'th') =>
    `<tr><${tag} style="${NAME}">${escapeHtml(name)}</${tag}>${[...values, duration].map((v) => `<${tag} style="${TD}">${escapeHtml(v)}</${tag}>`).join('')}</tr>`;
  const head = `<tr><th style="${TH};text-align:left">entity</th>${[...COUNTER_COLUMNS, 'duration'].map((c) => `<th style="${TH}">${c}</th>`).join('')}</tr>`;
  const rows = report.entities.map((e) => row(e.name, counterValues(e), formatDuration(e.durationMs), 'td'));
  rows.push(row('total', counterValues(report.totals), formatDuration(report.durationMs), 'th'));
  return `<h4 style="font-family:sans-serif;margin:16px 0 6px">All entities</h4><table style="border-collapse:collapse;font-family:sans-serif;font-size:13px;color:#1f2328"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
}

export function renderReport(report: RunReport, format: ReportFormat, context: SummaryContext = {}): string {
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'markdown':
      return `${renderRunSummary(report, context).toMarkdown()}\n\n${markdownTable(report)}`;
    case 'html':
      return `${renderRunSummary(report, context).toHtml()}\n${htmlTable(report)}`;
    default:
      return renderTable(report);
  }
}
