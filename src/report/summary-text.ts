/**
 * The run summary as plain text (the e-mail's text part) and as Markdown (`-o markdown`, PR comments):
 * the same sections as the HTML, in the same order.
 */
import { formatDuration } from '../engine/report.js';
import { escapeMarkdown, oneLine } from './escape.js';
import { countsText, formatCount, type RunSummary, type SummaryOutcome } from './summary.js';

const OUTCOME_LABEL: Record<SummaryOutcome, string> = {
  Succeeded: 'Succeeded',
  SucceededWithRejects: 'Succeeded, some rows rejected',
  Failed: 'FAILED',
};

const rejectedMore = (more: number) => `… and ${formatCount(more)} more ${more === 1 ? 'row' : 'rows'}, each with its reason, in the full report`;
const destinationText = (d: NonNullable<RunSummary['export']>['destinations'][number]) =>
  `${d.state === 'Succeeded' ? 'transferred' : `failed: ${d.failure ?? ''}`} (${formatCount(d.filesTransferred)} of ${formatCount(d.files)} files, ${formatCount(d.bytes)} bytes)`;

function padTable(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`.trimEnd());
}

export function summaryToText(summary: RunSummary, footer?: string): string {
  const t = (text: string) => oneLine(text);
  const lines = [t(summary.headline), '', `${OUTCOME_LABEL[summary.outcome]} · ${t(summary.title)}${summary.requestedBy ? ` · requested by ${t(summary.requestedBy)}` : ''}`];
  if (summary.link) lines.push('', `${summary.link.label}: ${summary.link.href}`);
  if (summary.error) lines.push('', `Error: ${t(summary.error)}`);
  if (summary.changed.length) {
    lines.push('', 'What changed:', ...padTable(summary.changed.map((e) => [t(e.name), countsText(e.counts), `${formatCount(e.read)} read`, formatDuration(e.durationMs)])));
  }
  if (summary.changedMore) lines.push(`  ${summary.changedMore}`);
  if (summary.idle) lines.push('', t(summary.idle));
  if (summary.export?.files.length) lines.push('', 'Files:', ...summary.export.files.map((f) => `  ${t(f.name)}: ${formatCount(f.rows)} rows, ${formatCount(f.bytes)} bytes, sha256 ${f.sha256}`));
  if (summary.export?.destinations.length) lines.push('', 'Transfers:', ...summary.export.destinations.map((d) => `  ${t(d.target)}: ${t(destinationText(d))}`));
  if (summary.rejected.total) {
    lines.push('', `Rejected rows (${formatCount(summary.rejected.total)}):`, ...summary.rejected.rows.map((r) => `  ${t(r.entity)} ${t(r.key ?? '(no key)')}: ${t(r.reason)}`));
    if (summary.rejected.more > 0) lines.push(`  ${rejectedMore(summary.rejected.more)}`);
  }
  if (summary.notes.lines.length) {
    lines.push('', 'Notes:', ...summary.notes.lines.map((n) => `  ${t(n)}`));
    if (summary.notes.more > 0) lines.push(`  … and ${formatCount(summary.notes.more)} more in the full report`);
  }
  lines.push('', ...summary.facts.map((f) => `${f.label}: ${t(f.value)}`));
  if (footer) lines.push('', footer);
  return lines.join('\n');
}

/** Markdown with every data value escaped: no HTML, links or emphasis can come from the data. */
export function summaryToMarkdown(summary: RunSummary): string {
  const md = escapeMarkdown;
  const parts = [`**${md(summary.headline)}**`, '', `${OUTCOME_LABEL[summary.outcome]} · ${md(summary.title)}${summary.requestedBy ? ` · requested by ${md(summary.requestedBy)}` : ''}`];
  // The address is the console's own (configuration) with percent-encoded names; <...> keeps it one link.
  if (summary.link) parts.push('', `[${summary.link.label}](<${summary.link.href.replace(/[<>\s]/g, encodeURIComponent)}>)`);
  if (summary.error) parts.push('', `**Error:** ${md(summary.error)}`);
  if (summary.changed.length) {
    parts.push('', '| Entity | Changes | Read | Time |', '|---|---|---:|---:|');
    for (const e of summary.changed) parts.push(`| ${md(e.name)} | ${md(countsText(e.counts))} | ${formatCount(e.read)} | ${formatDuration(e.durationMs)} |`);
  }
  if (summary.changedMore) parts.push('', md(summary.changedMore));
  if (summary.idle) parts.push('', md(summary.idle));
  if (summary.export?.files.length) {
    parts.push('', '| File | Rows | Bytes | SHA-256 |', '|---|---:|---:|---|');
    for (const f of summary.export.files) parts.push(`| ${md(f.name)} | ${formatCount(f.rows)} | ${formatCount(f.bytes)} | ${md(f.sha256.slice(0, 12))}… |`);
  }
  if (summary.export?.destinations.length) {
    parts.push('', '| Destination | Result |', '|---|---|');
    for (const d of summary.export.destinations) parts.push(`| ${md(d.target)} | ${md(destinationText(d))} |`);
  }
  if (summary.rejected.total) {
    parts.push('', `**Rejected rows (${formatCount(summary.rejected.total)})**`, '');
    for (const r of summary.rejected.rows) parts.push(`- ${md(r.entity)} ${md(r.key ?? '(no key)')}: ${md(r.reason)}`);
    if (summary.rejected.more > 0) parts.push(`- ${rejectedMore(summary.rejected.more)}`);
  }
  if (summary.notes.lines.length) {
    parts.push('', '**Notes**', '');
    for (const n of summary.notes.lines) parts.push(`- ${md(n)}`);
    if (summary.notes.more > 0) parts.push(`- … and ${formatCount(summary.notes.more)} more in the full report`);
  }
  parts.push('', summary.facts.map((f) => `${f.label}: ${md(f.value)}`).join(' · '));
  return parts.join('\n');
}
