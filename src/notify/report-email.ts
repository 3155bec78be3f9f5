import { renderHtml, renderTable, type RunReport } from '../engine/report.js';
import { redactSecrets } from '../util/redact.js';

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
}

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

/** Removes credentials from text: passwords in URLs, and every known secret value. */
export function scrubSecrets(text: string, secrets: string[] = []): string {
  let out = redactSecrets(text);
  for (const secret of secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
  return out;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The run report as an e-mail, in plain text and HTML. */
export function renderReportEmail(input: ReportEmailInput): EmailContent {
  const outcome = input.phase === 'Succeeded' ? 'succeeded' : `failed${input.reason ? ` (${input.reason})` : ''}`;
  const subject = `[Ferry] ${input.namespace}/${input.flow}: ${input.mode} sync ${outcome}`;
  const facts = [
    `Flow: ${input.namespace}/${input.flow}`,
    `SyncJob: ${input.syncJob}`,
    `Mode: ${input.mode}`,
    `Result: ${input.phase}${input.reason ? ` (${input.reason})` : ''}`,
    ...(input.requestedBy ? [`Requested by: ${input.requestedBy}`] : []),
    ...(input.message ? [`Message: ${input.message}`] : []),
  ];
  const body = input.report ? renderTable(input.report) : 'No run report: the run did not start.';
  const text = scrubSecrets([...facts, '', body, '', `kubectl -n ${input.namespace} get syncjob ${input.syncJob} -o yaml`].join('\n'), input.secrets);
  const html = scrubSecrets(
    [
      '<!doctype html><html><body style="font-family: sans-serif">',
      `<h2>${escapeHtml(subject.replace('[Ferry] ', ''))}</h2>`,
      `<ul>${facts.map((f) => `<li>${escapeHtml(f)}</li>`).join('')}</ul>`,
      input.report ? renderHtml(input.report) : '<p>No run report: the run did not start.</p>',
      '</body></html>',
    ].join('\n'),
    input.secrets,
  );
  return { subject: scrubSecrets(subject, input.secrets), text, html };
}
