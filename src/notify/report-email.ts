import type { RunReport } from '../engine/report.js';
import { renderRunSummary } from '../report/run-summary.js';
import { scrubSecrets } from '../report/scrub.js';

export interface ReportEmailInput {
  namespace: string;
  flow: string;
  syncJob: string;
  mode: string;
  phase: string;
  /** Failure reason (DeadlineExceeded, EngineError, ...), when failed. */
  reason?: string;
  message?: string;
  requestedBy?: string;
  report?: RunReport;
  /** Values that must never appear in the e-mail (passwords and URLs the controller knows of). */
  secrets?: string[];
  /** The console's external address: the e-mail links to the run's page there. */
  consoleUrl?: string;
}

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

function outcomeText(input: ReportEmailInput): string {
  if (input.phase !== 'Succeeded') return `failed${input.reason ? ` (${input.reason})` : ''}`;
  const rejected = input.report?.totals.rejected ?? 0;
  return rejected > 0 ? `succeeded, ${rejected} ${rejected === 1 ? 'row' : 'rows'} rejected` : 'succeeded';
}

/** The run report as an e-mail: the run summary, in plain text and in HTML that mail clients render. */
export function renderReportEmail(input: ReportEmailInput): EmailContent {
  const secrets = input.secrets ?? [];
  const subject = scrubSecrets(`[Ferry] ${input.namespace}/${input.flow}: ${input.mode} ${input.report && 'export' in input.report ? 'export' : 'sync'} ${outcomeText(input)}`, secrets);
  const rendered = renderRunSummary(input.report, {
    flow: `${input.namespace}/${input.flow}`,
    namespace: input.namespace,
    syncJob: input.syncJob,
    mode: input.mode,
    phase: input.phase,
    ...(input.reason ? { reason: input.reason } : {}),
    ...(input.message ? { message: input.message } : {}),
    ...(input.requestedBy ? { requestedBy: input.requestedBy } : {}),
    ...(input.consoleUrl ? { consoleUrl: input.consoleUrl } : {}),
    secrets,
  });
  const footer = `Full report: kubectl ferry report ${input.syncJob} -n ${input.namespace}`;
  // The summary masks secrets in every value; the whole body once more, for anything a future section adds.
  return {
    subject,
    text: scrubSecrets(rendered.toText(footer), secrets),
    html: scrubSecrets(rendered.toHtmlDocument(subject.replace('[Ferry] ', ''), { footer }), secrets),
  };
}
