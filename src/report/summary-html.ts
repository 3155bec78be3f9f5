/**
 * The run summary as HTML. For e-mail, every element carries its style inline (mail clients drop
 * <style> blocks and never load external sheets) and the layout is tables; for the console, whose
 * Content-Security-Policy refuses inline styles, the same markup carries only class names
 * (`ferry-summary-*`) for its own stylesheet. Every value from the data is escaped.
 */
import { formatDuration } from '../engine/report.js';
import { escapeHtml } from './escape.js';
import { countsText, formatCount, type RunSummary, type SummaryOutcome } from './summary.js';

export interface SummaryHtmlOptions {
  /** Inline styles (e-mail, `-o html`; the default) or class names only (the console). */
  inlineStyles?: boolean;
  /** A last line of constant text, e.g. how to get the full report. Escaped. */
  footer?: string;
  /** The headline's heading level (sections get the next): 1 in an e-mail, 2 inside a page that has its own h1. */
  headingLevel?: 1 | 2;
}

const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif";
// Free text (reasons, errors, file names) may break anywhere so one long token cannot widen the card;
// names and counts break only between words, so a table column is never squeezed to a letter per line.
const WRAP = 'overflow-wrap:anywhere';
const WORDS = 'overflow-wrap:break-word';
const CELL = 'padding:6px;border-top:1px solid #d0d7de;text-align:left;vertical-align:top';

const OUTCOME: Record<SummaryOutcome, { label: string; accent: string; background: string; text: string }> = {
  Succeeded: { label: 'Succeeded', accent: '#1a7f37', background: '#dafbe1', text: '#116329' },
  SucceededWithRejects: { label: 'Succeeded, some rows rejected', accent: '#bf8700', background: '#fff8c5', text: '#6c4400' },
  Failed: { label: 'Failed', accent: '#cf222e', background: '#ffebe9', text: '#a40e26' },
};

const STYLES = {
  card: `width:100%;max-width:640px;border-collapse:collapse;background:#ffffff;border:1px solid #d0d7de;font-family:${FONT};font-size:14px;line-height:1.5;color:#1f2328`,
  status: 'margin:0;font-size:12px;font-weight:bold;letter-spacing:0.04em;text-transform:uppercase',
  headline: `margin:4px 0 0;font-size:18px;line-height:1.35;font-weight:600;color:#1f2328;${WRAP}`,
  subtitle: `margin:6px 0 0;font-size:13px;color:#424a53;${WRAP}`,
  section: 'padding:12px 16px 0 16px',
  heading: 'margin:0 0 6px;font-size:14px;font-weight:600;color:#1f2328',
  table: 'width:100%;border-collapse:collapse;font-size:13px',
  th: `padding:6px;text-align:left;vertical-align:bottom;font-weight:600;color:#424a53;${WORDS}`,
  thNum: 'padding:6px;text-align:right;vertical-align:bottom;font-weight:600;color:#424a53;white-space:nowrap',
  td: `${CELL};${WORDS}`,
  tdText: `${CELL};${WRAP}`,
  tdNum: 'padding:6px;border-top:1px solid #d0d7de;text-align:right;vertical-align:top;white-space:nowrap',
  code: `font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;${WRAP}`,
  muted: `margin:6px 0 0;color:#424a53;${WRAP}`,
  error: `margin:0;padding:10px 12px;background:#ffebe9;border:1px solid #ff8182;color:#82071e;${WRAP}`,
  list: 'margin:0;padding:0 0 0 20px',
  item: `margin:0 0 2px;${WRAP}`,
  button: 'display:inline-block;padding:8px 14px;background:#0969da;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600',
  factLabel: 'width:1%;padding:2px 16px 2px 0;text-align:left;font-weight:600;color:#424a53;vertical-align:top;white-space:nowrap',
  factValue: `padding:2px 0;color:#1f2328;vertical-align:top;${WRAP}`,
  footer: `padding:12px 16px 16px 16px;font-size:12px;color:#424a53;${WRAP}`,
  header: 'padding:16px',
} as const;

type StyleName = keyof typeof STYLES;

/** An identifier (`person_member_sources`) that may wrap after its separators on a phone, and nowhere else. */
function breakable(name: string): string {
  return escapeHtml(name).replace(/([_./-])/g, '$1<wbr>');
}

interface Cell {
  text: string;
  numeric?: boolean;
  code?: boolean;
  strong?: boolean;
  /** Free text that may break anywhere (reasons, messages, file names). */
  freeText?: boolean;
  /** A second line in code type, e.g. the key under the entity. */
  below?: string;
}

class Markup {
  readonly top: string;
  readonly sub: string;

  constructor(
    private readonly inline: boolean,
    headingLevel: 1 | 2,
  ) {
    this.top = `h${headingLevel}`;
    this.sub = `h${headingLevel + 1}`;
  }

  /** ` class="ferry-summary-x" style="..."` (the style only for e-mail). */
  attrs(name: StyleName, extraStyle = '', extraClass = ''): string {
    const style = `${STYLES[name]}${extraStyle ? `;${extraStyle}` : ''}`;
    return ` class="ferry-summary-${name}${extraClass ? ` ${extraClass}` : ''}"${this.inline ? ` style="${escapeHtml(style)}"` : ''}`;
  }

  table(caption: string, head: { text: string; numeric?: boolean }[], rows: Cell[][], testId: string): string {
    const th = head.map((h) => `<th scope="col"${this.attrs(h.numeric ? 'thNum' : 'th')}>${escapeHtml(h.text)}</th>`).join('');
    const body = rows
      .map((row) => {
        const cells = row.map((cell) => {
          const text = cell.code ? `<code${this.attrs('code')}>${escapeHtml(cell.text)}</code>` : cell.strong ? `<strong>${breakable(cell.text)}</strong>` : escapeHtml(cell.text);
          const below = cell.below ? `<br><code${this.attrs('code')}>${escapeHtml(cell.below)}</code>` : '';
          return `<td${this.attrs(cell.numeric ? 'tdNum' : cell.freeText ? 'tdText' : 'td')}>${text}${below}</td>`;
        });
        return `<tr>${cells.join('')}</tr>`;
      })
      .join('');
    return `<${this.sub}${this.attrs('heading')}>${escapeHtml(caption)}</${this.sub}><table data-summary="${testId}"${this.attrs('table')}><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table>`;
  }

  section(content: string): string {
    return `<tr><td${this.attrs('section')}>${content}</td></tr>`;
  }
}

const outcomeClassOf = (outcome: SummaryOutcome) => `ferry-summary-${outcome.replace(/[A-Z]/g, (c, i: number) => `${i ? '-' : ''}${c.toLowerCase()}`)}`;
const headerStyle = (o: (typeof OUTCOME)[SummaryOutcome]) => `border-left:6px solid ${o.accent};background:${o.background}`;

/**
 * The same look as the e-mail's inline styles, as a stylesheet for pages that render the summary with
 * `inlineStyles: false` (the console serves it as a file of its own, so its CSP can stay strict).
 */
export function summaryStylesheet(): string {
  const rules = Object.entries(STYLES).map(([name, css]) => `.ferry-summary-${name}{${css}}`);
  for (const [outcome, o] of Object.entries(OUTCOME) as [SummaryOutcome, (typeof OUTCOME)[SummaryOutcome]][]) {
    const cls = outcomeClassOf(outcome);
    rules.push(`.ferry-summary-header.${cls}{${headerStyle(o)}}`, `.ferry-summary-status.${cls}{color:${o.text}}`);
  }
  return rules.join('\n') + '\n';
}

function header(m: Markup, summary: RunSummary): string {
  const outcome = OUTCOME[summary.outcome];
  const outcomeClass = outcomeClassOf(summary.outcome);
  const requested = summary.requestedBy ? ` · requested by ${summary.requestedBy}` : '';
  return (
    `<tr><td${m.attrs('header', headerStyle(outcome), outcomeClass)}>` +
    `<p data-summary="status"${m.attrs('status', `color:${outcome.text}`, outcomeClass)}>${escapeHtml(outcome.label)}</p>` +
    `<${m.top} data-summary="headline"${m.attrs('headline')}>${escapeHtml(summary.headline)}</${m.top}>` +
    `<p${m.attrs('subtitle')}>${escapeHtml(summary.title + requested)}</p>` +
    `</td></tr>`
  );
}

function changedTable(m: Markup, summary: RunSummary): string {
  if (summary.changed.length === 0) return '';
  const rows = summary.changed.map((e) => [
    { text: e.name, strong: true },
    { text: countsText(e.counts) },
    { text: formatCount(e.read), numeric: true },
    { text: formatDuration(e.durationMs), numeric: true },
  ]);
  return m.table('What changed', [{ text: 'Entity' }, { text: 'Changes' }, { text: 'Read', numeric: true }, { text: 'Time', numeric: true }], rows, 'changed');
}

function rejectedTable(m: Markup, summary: RunSummary): string {
  const { rows, total, more } = summary.rejected;
  if (total === 0) return '';
  const caption = `Rejected rows (${formatCount(total)})`;
  const table = rows.length
    ? m.table(caption, [{ text: 'Row' }, { text: 'Reason' }], rows.map((r) => [{ text: r.entity, strong: true, below: r.key ?? '(no key)' }, { text: r.reason, freeText: true }]), 'rejected')
    : `<${m.sub}${m.attrs('heading')}>${escapeHtml(caption)}</${m.sub}>`;
  const tail = more > 0 ? `<p data-summary="rejected-more"${m.attrs('muted')}>${escapeHtml(`… and ${formatCount(more)} more ${more === 1 ? 'row' : 'rows'}, each with its reason, in the full report.`)}</p>` : '';
  return table + tail;
}

function exportTables(m: Markup, summary: RunSummary): string {
  if (!summary.export) return '';
  const { files, destinations } = summary.export;
  const fileTable = files.length
    ? m.table(
        'Files',
        [{ text: 'File' }, { text: 'Rows', numeric: true }, { text: 'Bytes', numeric: true }, { text: 'SHA-256' }],
        files.map((f) => [{ text: f.name, code: true, freeText: true }, { text: formatCount(f.rows), numeric: true }, { text: formatCount(f.bytes), numeric: true }, { text: `${f.sha256.slice(0, 12)}…`, code: true }]),
        'files',
      )
    : '';
  const destinationTable = destinations.length
    ? m.table(
        'Transfers',
        [{ text: 'Destination' }, { text: 'Result' }, { text: 'Files', numeric: true }, { text: 'Bytes', numeric: true }],
        destinations.map((d) => [
          { text: d.target, strong: true },
          { text: d.state === 'Succeeded' ? 'transferred' : `failed: ${d.failure ?? ''}`, freeText: true },
          { text: `${formatCount(d.filesTransferred)} of ${formatCount(d.files)}`, numeric: true },
          { text: formatCount(d.bytes), numeric: true },
        ]),
        'destinations',
      )
    : '';
  return [fileTable, destinationTable].filter(Boolean).map((t) => m.section(t)).join('');
}

function notesList(m: Markup, summary: RunSummary): string {
  const { lines, more } = summary.notes;
  if (lines.length === 0) return '';
  const items = [...lines, ...(more > 0 ? [`… and ${formatCount(more)} more in the full report`] : [])].map((l) => `<li${m.attrs('item')}>${escapeHtml(l)}</li>`).join('');
  return `<${m.sub}${m.attrs('heading')}>Notes</${m.sub}><ul${m.attrs('list')}>${items}</ul>`;
}

function factsTable(m: Markup, summary: RunSummary): string {
  const rows = summary.facts.map((f) => `<tr><th scope="row"${m.attrs('factLabel')}>${escapeHtml(f.label)}</th><td${m.attrs('factValue')}>${escapeHtml(f.value)}</td></tr>`).join('');
  return `<table data-summary="facts"${m.attrs('table')}><tbody>${rows}</tbody></table>`;
}

/** The summary as one HTML block (a table card, 640 px at most). */
export function summaryToHtml(summary: RunSummary, options: SummaryHtmlOptions = {}): string {
  const m = new Markup(options.inlineStyles !== false, options.headingLevel ?? 1);
  const parts = [
    header(m, summary),
    summary.link ? m.section(`<a href="${escapeHtml(summary.link.href)}" data-summary="link"${m.attrs('button')}>${escapeHtml(summary.link.label)}</a>`) : '',
    summary.error ? m.section(`<p role="alert" data-summary="error"${m.attrs('error')}><strong>Error:</strong> ${escapeHtml(summary.error)}</p>`) : '',
    summary.changed.length || summary.idle
      ? m.section(
          changedTable(m, summary) +
            (summary.changedMore ? `<p data-summary="changed-more"${m.attrs('muted')}>${escapeHtml(summary.changedMore)}</p>` : '') +
            (summary.idle ? `<p data-summary="idle"${m.attrs('muted')}>${escapeHtml(summary.idle)}</p>` : ''),
        )
      : '',
    exportTables(m, summary),
    summary.rejected.total ? m.section(rejectedTable(m, summary)) : '',
    summary.notes.lines.length ? m.section(notesList(m, summary)) : '',
    m.section(factsTable(m, summary)),
    `<tr><td${m.attrs('footer')}>${options.footer ? escapeHtml(options.footer) : ''}</td></tr>`,
  ];
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" data-summary="card"${m.attrs('card')}><tbody>${parts.join('')}</tbody></table>`;
}

/** A whole HTML e-mail body around the summary: a light page with the card centred. */
export function summaryToHtmlDocument(summary: RunSummary, title: string, options: Omit<SummaryHtmlOptions, 'inlineStyles'> = {}): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title></head>`,
    '<body style="margin:0;padding:0;background:#f6f8fa">',
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="width:100%;border-collapse:collapse;background:#f6f8fa"><tr><td align="center" style="padding:16px 0">',
    summaryToHtml(summary, { ...options, inlineStyles: true }),
    '</td></tr></table></body></html>',
  ].join('\n');
}
