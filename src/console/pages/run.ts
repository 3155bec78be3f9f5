/**
 * The Run page: what a SyncJob asked for and who asked, its phase, the report per entity, the transfers
 * of an export, and the rejected rows with their reasons (searchable, paged) from the data API.
 */
import type { SyncJob } from '../../api/syncjob.js';
import { estimateText, jobDuration } from '../../cli/kubectl-ferry/format.js';
import type { ReportDocument } from '../../data-api/report.js';
import { html, query, type Html } from '../html.js';
import { modeText, phaseLabel } from './flows.js';
import { pager, time } from './layout.js';

const COUNTERS = ['read', 'created', 'updated', 'unchanged', 'archived', 'deleted', 'rejected'] as const;

function entityTable(job: SyncJob, report: ReportDocument['report']): Html {
  const fromReport = report?.entities.map((e) => ({ name: e.name, counts: e as unknown as Record<string, number>, ms: e.durationMs }));
  const fromStatus = (job.status?.summary?.entities ?? []).map((e) => ({ name: e.name, counts: e as unknown as Record<string, number>, ms: undefined }));
  const rows = fromReport ?? fromStatus;
  if (rows.length === 0) return html`<p>No per-entity counts yet.</p>`;
  return html`<table><caption>Per entity</caption><thead><tr><th scope="col">Entity</th>${COUNTERS.map((c) => html`<th scope="col" class="num">${c}</th>`)}<th scope="col" class="num">duration</th></tr></thead>
    <tbody>${rows.map((r) => html`<tr><th scope="row">${r.name}</th>${COUNTERS.map((c) => html`<td class="num">${(r.counts[c] ?? 0).toLocaleString('en-US')}</td>`)}<td class="num">${r.ms === undefined ? '-' : `${(r.ms / 1000).toFixed(1)} s`}</td></tr>`)}</tbody></table>`;
}

function transfers(job: SyncJob): Html {
  const list = job.status?.summary?.transfers ?? [];
  if (list.length === 0) return html``;
  return html`<table><caption>Transfers</caption><thead><tr><th scope="col">Destination</th><th scope="col">State</th><th scope="col" class="num">Bytes</th><th scope="col">Message</th></tr></thead>
    <tbody>${list.map((t) => html`<tr><td>${t.target}</td><td>${t.state}</td><td class="num">${t.bytes ?? ''}</td><td>${t.message ?? ''}</td></tr>`)}</tbody></table>`;
}

export interface RunPageInput {
  job: SyncJob;
  namespace: string;
  report?: ReportDocument;
  /** Why the data API could not be read (the run page still shows the SyncJob). */
  reportError?: string;
  search: string;
  continueToken?: string;
  now: Date;
  /** The shared summary renderer's HTML (src/report), when available. */
  summary?: Html;
}

export function runPage(input: RunPageInput): Html {
  const { job, namespace, report } = input;
  const status = job.status ?? {};
  const runId = status.runId ?? status.reportRef?.runId;
  const needle = input.search;
  // The data API returned only the rows that match (searched across every page of the run).
  const rejected = report?.rejectedRows ?? [];
  const base = `/runs/${job.metadata.name}`;
  return html`<dl class="facts">
      <dt>Flow</dt><dd><a href="/${query({ ns: namespace })}#flow-${job.spec.flowRef.name}">${job.spec.flowRef.name}</a></dd>
      <dt>Mode</dt><dd>${modeText(job)}</dd>
      <dt>Phase</dt><dd><span class="phase phase-${(status.phase ?? 'Pending').toLowerCase()}" data-testid="run-phase">${phaseLabel(job)}</span>${status.message ? html` · ${status.message}` : ''}</dd>
      <dt>Requested by</dt><dd>${job.spec.requestedBy ?? job.metadata.annotations?.['ferry.dev/requested-by'] ?? (job.metadata.labels?.['ferry.dev/schedule'] ? `schedule ${job.metadata.labels['ferry.dev/schedule']}` : 'not recorded')}
        ${job.metadata.labels?.['ferry.dev/requested-via'] ? html` (via ${job.metadata.labels['ferry.dev/requested-via']})` : ''}</dd>
      <dt>Created</dt><dd>${time(job.metadata.creationTimestamp)}</dd>
      <dt>Started</dt><dd>${time(status.startedAt)}</dd>
      <dt>Duration</dt><dd>${jobDuration(job, input.now)}</dd>
      <dt>Estimate</dt><dd>${estimateText(job)}</dd>
      <dt>Run id</dt><dd>${runId ?? 'not started'}</dd>
    </dl>
    ${input.summary ?? ''}
    ${runId && report?.report ? html`<p><a href="${base}/report.json${query({ ns: namespace })}" download>Download the full report (JSON)</a></p>` : ''}
    ${input.reportError ? html`<p class="notice error" role="alert">The report could not be read: ${input.reportError}</p>` : ''}
    ${report?.report?.error ? html`<p class="notice error">Error: ${report.report.error}</p>` : ''}
    ${entityTable(job, report?.report)}
    ${transfers(job)}
    <h2>Rejected rows</h2>
    <form class="search" method="get" action="${base}" role="search">
      <input type="hidden" name="ns" value="${namespace}">
      <label for="rejected-search">Search rejected rows</label> <input id="rejected-search" name="q" value="${input.search}" autocomplete="off"> <button>Search</button>
    </form>
    ${rejected.length === 0
      ? html`<p>${needle ? report?.continue ? 'No rejected row matches in this part of the run; look further with the next page.' : 'No rejected row matches.' : 'No rejected rows.'}</p>`
      : html`<table><caption>Rejected rows${needle ? ' matching the search' : ''}</caption><thead><tr><th scope="col">Entity</th><th scope="col">Key</th><th scope="col">Reason</th><th scope="col">Detail</th></tr></thead>
        <tbody>${rejected.map((r) => html`<tr><td>${r.entity}</td><td>${r.key ?? ''}</td><td>${r.reason}</td><td>${r.detail ?? ''}</td></tr>`)}</tbody></table>`}
    ${pager(base, { ns: namespace, q: input.search || undefined, continue: input.continueToken }, report?.continue, 'Rejected rows')}`;
}
