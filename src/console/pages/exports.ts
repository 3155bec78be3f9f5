/**
 * The export dashboard of an export flow (seed 004): past instances with creation status and the
 * transfer status per destination, their files with SHA-256 and a download, "Transfer file(s)" to all
 * or chosen destinations, "Process new sync", the schedules with time zone, next run and what daylight
 * saving does to them, and the ExportTargets with their probe status.
 */
import type { ExportTarget } from '../../api/exporttarget.js';
import type { SyncFlow } from '../../api/syncflow.js';
import type { SyncJob } from '../../api/syncjob.js';
import { busyMessage, creationTime, nextRuns, zonedTime } from '../../cli/kubectl-ferry/format.js';
import type { ExportFile } from '../../data-api/objects.js';
import type { Access } from '../cluster.js';
import { dstNote } from '../dst.js';
import { html, query, type Html } from '../html.js';
import { activeRunOf, modeText, phaseLabel } from './flows.js';
import { csrfField, time } from './layout.js';

export interface ExportsInput {
  flow: SyncFlow;
  namespace: string;
  jobs: SyncJob[];
  files: ExportFile[];
  filesError?: string;
  targets: ExportTarget[];
  access: Access;
  csrf: string;
  now: Date;
  page: number;
}

export const RUNS_PER_PAGE = 20;

const runIdOf = (job: SyncJob) => job.status?.runId ?? job.status?.reportRef?.runId;

export function flowTargets(flow: SyncFlow): string[] {
  const target = flow.spec.target as { export?: { targets?: { name: string }[] } };
  return (target.export?.targets ?? []).map((t) => t.name);
}

function hidden(input: ExportsInput): Html {
  return html`${csrfField(input.csrf)}<input type="hidden" name="ns" value="${input.namespace}"><input type="hidden" name="flow" value="${input.flow.metadata.name}">`;
}

function instance(input: ExportsInput, job: SyncJob, busy: string | undefined): Html {
  const runId = runIdOf(job);
  const files = runId ? input.files.filter((f) => f.runId === runId) : [];
  const transfers = job.status?.summary?.transfers ?? [];
  const destinations = flowTargets(input.flow);
  const canResend = input.access.startRuns && runId && files.length > 0 && job.spec.mode !== 'Retransfer';
  const id = `run-${job.metadata.name}`;
  return html`<article class="card instance" id="${id}" aria-labelledby="${id}-title">
    <h3 id="${id}-title"><a href="/runs/${job.metadata.name}${query({ ns: input.namespace })}">${job.metadata.name}</a>
      <span class="phase phase-${(job.status?.phase ?? 'Pending').toLowerCase()}">${phaseLabel(job)}</span></h3>
    <p>${modeText(job)} · created ${time(job.metadata.creationTimestamp)}${job.status?.completedAt ? html` · finished ${time(job.status.completedAt)}` : ''}</p>
    ${transfers.length
      ? html`<ul class="transfers" aria-label="Transfers">${transfers.map((t) => html`<li><strong>${t.target}</strong>: <span class="state">${t.state}</span>${t.message ? ` (${t.message})` : ''}</li>`)}</ul>`
      : html`<p>No transfers recorded.</p>`}
    ${files.length
      ? html`<table><caption>Files</caption><thead><tr><th scope="col">File</th><th scope="col" class="num">Rows</th><th scope="col" class="num">Bytes</th><th scope="col">SHA-256</th><th scope="col">Download</th></tr></thead><tbody>
        ${files.map((f) => html`<tr><td>${f.fileName}</td><td class="num">${f.rows}</td><td class="num">${f.bytes}</td><td><code class="sha" data-testid="sha256">${f.sha256}</code></td>
          <td>${f.purged ? 'purged' : input.access.download ? html`<a href="/files/${f.metadata.name}/download${query({ ns: input.namespace })}" download="${f.fileName}">Download ${f.fileName}</a>` : 'needs ferry-edit'}</td></tr>`)}
        </tbody></table>`
      : ''}
    ${canResend
      ? html`<form method="post" action="/actions/retransfer" class="transfer">${hidden(input)}<input type="hidden" name="job" value="${job.metadata.name}">
        <fieldset${busy ? html` disabled title="${busy}"` : ''}><legend>Transfer file(s) of ${job.metadata.name}</legend>
        ${destinations.map((d) => html`<input type="checkbox" id="${id}-to-${d}" name="target" value="${d}"> <label for="${id}-to-${d}">${d}</label> `)}
        <button${busy ? html` disabled title="${busy}"` : ''}>Transfer file(s)</button> <small>(none ticked: to all destinations)</small></fieldset></form>`
      : ''}
  </article>`;
}

function schedules(input: ExportsInput): Html {
  const flow = input.flow;
  const list = flow.spec.schedules ?? [];
  if (list.length === 0) return html`<p>No schedules.</p>`;
  const next = new Map(nextRuns(flow, input.now).map((r) => [r.schedule, r]));
  return html`<table><caption>Schedules</caption><thead><tr><th scope="col">Schedule</th><th scope="col">Cron</th><th scope="col">Time zone</th><th scope="col">Next run</th><th scope="col">State</th></tr></thead><tbody>
    ${list.map((s) => {
      const zone = s.timeZone ?? 'UTC';
      const upcoming = next.get(s.name);
      const note = dstNote(s.cron, zone, input.now);
      return html`<tr><th scope="row">${s.name}</th><td><code>${s.cron}</code></td><td>${zone}</td>
        <td>${upcoming?.at ? zonedTime(upcoming.at, zone) : '-'}${upcoming?.note ? html` <em>(${upcoming.note})</em>` : ''}${note ? html`<br><small class="dst">${note}</small>` : ''}</td>
        <td>${s.suspend ? 'suspended' : 'enabled'}
          ${input.access.editFlows
            ? html`<form method="post" action="/actions/schedule" class="inline">${hidden(input)}<input type="hidden" name="schedule" value="${s.name}">
              <button name="suspend" value="${s.suspend ? 'false' : 'true'}">${s.suspend ? 'Enable' : 'Disable'} ${s.name}</button></form>`
            : ''}</td></tr>`;
    })}</tbody></table>`;
}

export function targetsTable(targets: ExportTarget[], only?: string[]): Html {
  const shown = only ? targets.filter((t) => only.includes(t.metadata.name)) : targets;
  if (shown.length === 0) return html`<p>No ExportTargets.</p>`;
  return html`<table><caption>Destinations (ExportTargets)</caption><thead><tr><th scope="col">Name</th><th scope="col">Protocol</th><th scope="col">Probe</th><th scope="col">Last transfer</th></tr></thead><tbody>
    ${shown.map((t) => {
      const ready = t.status?.conditions?.find((c) => c.type === 'Ready') ?? t.status?.conditions?.[0];
      const last = t.status?.lastTransfer;
      return html`<tr><th scope="row">${t.metadata.name}</th><td>${t.spec.protocol}</td>
        <td>${ready ? html`<span class="badge ${ready.status === 'True' ? 'ok' : 'warn'}">${ready.status === 'True' ? 'reachable' : 'unreachable'}</span> ${ready.reason ?? ''}${ready.message ? `: ${ready.message}` : ''}` : 'not probed yet'}</td>
        <td>${last ? html`${last.state} ${time(last.at)}${last.message ? ` (${last.message})` : ''}` : '-'}</td></tr>`;
    })}</tbody></table>`;
}

export function exportsPage(input: ExportsInput): Html {
  const jobs = [...input.jobs].sort((a, b) => creationTime(b) - creationTime(a));
  const active = activeRunOf(jobs);
  const busy = active ? busyMessage(input.flow.metadata.name, active) : undefined;
  const pages = Math.max(1, Math.ceil(jobs.length / RUNS_PER_PAGE));
  const shown = jobs.slice((input.page - 1) * RUNS_PER_PAGE, input.page * RUNS_PER_PAGE);
  const base = `/flows/${input.flow.metadata.name}/exports`;
  return html`${input.access.startRuns
      ? html`<form method="post" action="/actions/export" class="actions">${hidden(input)}
        <button${busy ? html` disabled title="${busy}"` : ''}>Process new sync</button>${busy ? html` <span class="busy">${busy}</span>` : ''}</form>`
      : html`<p class="readonly">You can view the exports; starting runs and downloading files take the ferry-edit role in ${input.namespace}.</p>`}
    ${input.filesError ? html`<p class="notice error" role="alert">Export files could not be read: ${input.filesError}</p>` : ''}
    <h2>Past instances</h2>
    ${shown.length ? shown.map((job) => instance(input, job, busy)) : html`<p>No runs yet.</p>`}
    ${pages > 1 ? html`<nav class="pager" aria-label="Instance pages">${input.page > 1 ? html`<a href="${base}${query({ ns: input.namespace, page: input.page - 1 })}">Newer</a>` : ''} ${input.page < pages ? html`<a href="${base}${query({ ns: input.namespace, page: input.page + 1 })}">Older</a>` : ''}</nav>` : ''}
    <h2>Schedules</h2>
    ${schedules(input)}
    <h2>Destinations</h2>
    ${targetsTable(input.targets, flowTargets(input.flow))}`;
}

/** /exports: the export flows of the namespace, and every ExportTarget with its probe status. */
export function exportsIndexPage(input: { flows: SyncFlow[]; targets: ExportTarget[]; namespace: string }): Html {
  const exports = input.flows.filter((f) => flowTargets(f).length > 0 || Boolean((f.spec.target as { export?: unknown }).export));
  return html`${exports.length
      ? html`<ul class="flows">${exports.map((f) => html`<li><a href="/flows/${f.metadata.name}/exports${query({ ns: input.namespace })}">${f.metadata.name}</a> to ${flowTargets(f).join(', ') || 'no destination'}</li>`)}</ul>`
      : html`<p>No export flows in ${input.namespace}.</p>`}
    <h2>Destinations</h2>
    ${targetsTable(input.targets)}`;
}
