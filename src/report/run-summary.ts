import type { RunReport } from '../engine/report.js';
import { summaryToHtml, summaryToHtmlDocument, type SummaryHtmlOptions } from './summary-html.js';

export { summaryStylesheet } from './summary-html.js';
import { summaryToMarkdown, summaryToText } from './summary-text.js';
import { summarizeRun, type RunSummary, type SummaryContext } from './summary.js';

export type { RunSummary, SummaryContext } from './summary.js';
export type { SummaryHtmlOptions } from './summary-html.js';

export interface RenderedRunSummary {
  /** The structured summary (JSON-safe), for callers that lay it out themselves. */
  summary: RunSummary;
  /** One HTML block: inline styles for e-mail by default, `{ inlineStyles: false }` for pages with a strict CSP. */
  toHtml(options?: SummaryHtmlOptions): string;
  /** A whole HTML document (the e-mail body). */
  toHtmlDocument(title: string, options?: Omit<SummaryHtmlOptions, 'inlineStyles'>): string;
  toText(footer?: string): string;
  toMarkdown(): string;
}

/** The one summary of a run, for the e-mail, `-o html`, `-o markdown` and the console's Run page. */
export function renderRunSummary(report: RunReport | undefined, context: SummaryContext = {}): RenderedRunSummary {
  const summary = summarizeRun(report, context);
  return {
    summary,
    toHtml: (options) => summaryToHtml(summary, options),
    toHtmlDocument: (title, options) => summaryToHtmlDocument(summary, title, options),
    toText: (footer) => summaryToText(summary, footer),
    toMarkdown: () => summaryToMarkdown(summary),
  };
}
