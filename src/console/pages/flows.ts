/**
 * The Flows page (seed 000's dashboard): per SyncFlow its readiness, the active run with its phase,
 * progress and estimate, the next scheduled runs, the last runs, the pair categories, and the buttons
 * that start runs, all disabled (with the reason as tooltip and text) while a run of the flow is active.
 */
import { PAIR_CATEGORIES, type SyncFlow } from '../../api/syncflow.js';
import type { SyncJob } from '../../api/syncjob.js';
import { busyMessage, creationTime, estimateText, formatDuration, isTerminal, nextRuns, zonedTime } from '../../cli/kubectl-ferry/format.js';
import type { Access } from '../cluster.js';
import { html, query, type Html } from '../html.js';
import { csrfField, time } from './layout.js';

/** The words the page uses for a phase: Running is what people call syncing. */
export const PHASE_LABEL: Record<string, string> = {
  Pending: 'Pending',
  Queued: 'Queued',
  Scheduled: 'Scheduled',
  Running: 'Syncing',
  Succeeded: 'Succeeded',
  Failed: 'Failed',
  Rejected: 'Rejected',
};
export const phaseLabel = (job: SyncJob) => PHASE_LABEL[job.status?.phase ?? 'Pending'] ?? job.status?.phase ?? 'Pending';

/** The run a flow is busy with: the oldest non-finished job (the one the controller lets run first). */
export function activeRunOf(jobs: SyncJob[]): SyncJob | undefined {
  return jobs.filter((j) => !isTerminal(j)).sort((a, b) => creationTime(a) - creationTime(b))[0];
}

export function modeText(job: Pick<SyncJob, 'spec'>): string {
  const spec = job.spec;
  if (spec.mode === 'Scope') return `Scope ${spec.scope}${spec.scopeMode ? ` (${spec.scopeMode})` : ''}`;
  if (spec.mode === 'Record' && spec.record) return `Record ${spec.record.entity}/${spec.record.key}`;
  if (spec.mode === 'Retransfer' && spec.retransfer) return `Retransfer of ${spec.retransfer.runId}`;
  return spec.mode + (spec.dryRun ? ' (dry run)' : '');
}

function activeRun(job: SyncJob, namespace: string, now: Date): Html {
  const status = job.status ?? {};
  const estimate = status.estimate;
  const elapsed = status.startedAt ? (now.getTime() - new Date(status.startedAt).getTime()) / 1000 : 0;
  const running = status.phase === 'Running';
  const percent = running && estimate?.seconds ? Math.min(99, Math.round((elapsed / estimate.seconds) * 100)) : undefined;
  return html`<div class="active" data-phase="${status.phase ?? 'Pending'}">
    <p><span class="phase phase-${(status.phase ?? 'Pending').toLowerCase()}" data-testid="phase">${phaseLabel(job)}</span>
      <a href="/runs/${job.metadata.name}${query({ ns: namespace })}">${job.metadata.name}</a> · ${modeText(job)}</p>
    ${running
      ? html`<p class="progress"><label>Progress <progress max="100" ${percent !== undefined ? html`value="${percent}"` : ''}>${percent ?? 0}%</progress></label>
        ${formatDuration(elapsed)}${estimate ? html` of ~${formatDuration(estimate.seconds)}` : ''}</p>`
      : html`<p class="progress"><label>Progress <progress max="100" aria-describedby="est-${job.metadata.name}"></progress></label> waiting to start</p>`}
    <p class="estimate" id="est-${job.metadata.name}">Estimate: ${estimateText(job)}</p>
  </div>`;
}

function lastRuns(flow: SyncFlow, namespace: string): Html {
  const history = (flow.status?.history ?? []).filter((h) => ['Succeeded', 'Failed', 'Rejected'].includes(h.phase));
  if (history.length === 0) return html`<p>No finished runs yet.</p>`;
  return html`<table class="compact"><caption>Last runs</caption><thead><tr><th scope="col">Run</th><th scope="col">Mode</th><th scope="col">Result</th><th scope="col">Finished</th></tr></thead><tbody>
    ${history.map((h) => html`<tr><td><a href="/runs/${h.jobName}${query({ ns: namespace })}">${h.jobName}</a></td><td>${h.mode}</td>
      <td><span class="phase phase-${h.phase.toLowerCase()}">${PHASE_LABEL[h.phase] ?? h.phase}</span></td><td>${time(h.completedAt)}</td></tr>`)}
  </tbody></table>`;
}

function upcoming(flow: SyncFlow, now: Date): Html {
  const runs = nextRuns(flow, now);
  if (runs.length === 0) return html`<p>No schedules.</p>`;
  return html`<ul class="schedules">${runs.map(
    (r) => html`<li><strong>${r.schedule}</strong> ${r.mode}: ${r.at ? zonedTime(r.at, r.timeZone) : '-'}${r.note ? html` <em>(${r.note})</em>` : ''}</li>`,
  )}</ul>`;
}

function categories(flow: SyncFlow, namespace: string): Html {
  const counts = flow.status?.categories ?? {};
  const twoWay = flow.spec.direction === 'TwoWay';
  return html`<ul class="categories" aria-label="Pairs per category">${PAIR_CATEGORIES.map((c) => {
    const label = html`${c} <strong>${(counts[c] ?? 0).toLocaleString('en-US')}</strong>`;
    return html`<li>${twoWay ? html`<a href="/flows/${flow.metadata.name}/window${query({ ns: namespace, category: c })}">${label}</a>` : label}</li>`;
  })}</ul>`;
}

/** The start buttons: all disabled with the same reason while a run is active; absent without the right. */
function actions(flow: SyncFlow, active: SyncJob | undefined, access: Access, csrf: string, namespace: string): Html {
  const name = flow.metadata.name;
  if (!access.startRuns) return html`<p class="readonly">You can view this flow; starting runs takes the ferry-edit role in ${namespace}.</p>`;
  const busy = active ? busyMessage(name, active) : undefined;
  const disabled = busy ? html` disabled title="${busy}" aria-describedby="busy-${name}"` : html``;
  const entities = flow.spec.entities.map((e) => e.name);
  return html`<form class="actions" method="post" action="/actions/sync" aria-label="Start a run of ${name}">
    ${csrfField(csrf)}<input type="hidden" name="ns" value="${namespace}"><input type="hidden" name="flow" value="${name}">
    <div class="buttons">
      <button name="mode" value="Full"${disabled}>Full sync</button>
      <button name="mode" value="Incremental"${disabled}>Incremental sync</button>
      ${(flow.spec.scopes ?? []).map((s) => html`<button name="mode" value="scope:${s.name}"${disabled}>Scope ${s.name}</button>`)}
    </div>
    <fieldset class="record"${busy ? html` disabled title="${busy}"` : ''}><legend>Sync one record</legend>
      <label for="entity-${name}">Entity</label>
      <select id="entity-${name}" name="entity">${entities.map((e) => html`<option>${e}</option>`)}</select>
      <label for="key-${name}">Key</label>
      <input id="key-${name}" name="key" size="10" autocomplete="off">
      <button name="mode" value="Record"${disabled}>Sync record</button>
    </fieldset>
    ${busy ? html`<p class="busy" id="busy-${name}">${busy}</p>` : ''}
  </form>`;
}

export interface FlowCardInput {
  flow: SyncFlow;
  active?: SyncJob;
  access: Access;
  csrf: string;
  namespace: string;
  now: Date;
}

export function flowCard({ flow, active, access, csrf, namespace, now }: FlowCardInput): Html {
  const name = flow.metadata.name;
  const ready = flow.status?.conditions?.find((c) => c.type === 'Ready');
  const readyText = ready ? (ready.status === 'True' ? 'Ready' : `Not ready: ${ready.reason ?? ''}${ready.message ? ` (${ready.message})` : ''}`) : 'Not reconciled yet';
  const isExport = Boolean(flow.spec.target && 'export' in flow.spec.target && flow.spec.target.export);
  return html`<section class="flow card" id="flow-${name}" data-flow="${name}" aria-labelledby="title-${name}"${active ? html` data-active="${active.metadata.name}"` : ''}>
    <header><h2 id="title-${name}">${name}</h2>
      <span class="badge ${ready?.status === 'True' ? 'ok' : 'warn'}">${readyText}</span>
      <span class="meta">${flow.spec.direction ?? 'OneWay'}${flow.spec.suspend ? ' · suspended' : ''}</span>
      ${flow.spec.direction === 'TwoWay' ? html`<a href="/flows/${name}/window${query({ ns: namespace })}">Synchronization window</a>` : ''}
      ${isExport ? html`<a href="/flows/${name}/exports${query({ ns: namespace })}">Export dashboard</a>` : ''}
    </header>
    <div class="grid">
      <div><h3>Active run</h3>${active ? activeRun(active, namespace, now) : html`<p data-testid="phase-none">None</p>`}</div>
      <div><h3>Next runs</h3>${upcoming(flow, now)}</div>
      <div>${lastRuns(flow, namespace)}</div>
      <div><h3>Pairs</h3>${categories(flow, namespace)}</div>
    </div>
    ${actions(flow, active, access, csrf, namespace)}
  </section>`;
}

export const FLOWS_PER_PAGE = 20;

/**
 * Without a search the pages follow the API server's own paging (`next` is its continue token), so a
 * page reads 20 flows however many there are; a search reads every flow's name and pages by number.
 */
export function flowsPage(input: { flows: SyncFlow[]; actives: Map<string, SyncJob>; access: Access; csrf: string; namespace: string; now: Date; page: number; search: string; total: number; next?: string }): Html {
  const pages = Math.max(1, Math.ceil(input.total / FLOWS_PER_PAGE));
  const nextHref = input.search
    ? input.page < pages ? `/${query({ ns: input.namespace, q: input.search, page: input.page + 1 })}` : undefined
    : input.next ? `/${query({ ns: input.namespace, page: input.page + 1, continue: input.next })}` : undefined;
  const previousHref = input.page <= 1 ? undefined : input.search ? `/${query({ ns: input.namespace, q: input.search, page: input.page - 1 })}` : undefined;
  return html`<form class="search" method="get" action="/" role="search">
      <input type="hidden" name="ns" value="${input.namespace}">
      <label for="flow-search">Find a flow</label> <input id="flow-search" name="q" value="${input.search}" autocomplete="off"> <button>Search</button>
    </form>
    <p>${input.total} flow${input.total === 1 ? '' : 's'}${pages > 1 ? `, page ${input.page} of ${pages}` : ''}.</p>
    ${input.flows.map((flow) => flowCard({ ...input, flow, active: input.actives.get(flow.metadata.name) }))}
    ${pages > 1
      ? html`<nav class="pager" aria-label="Flow pages">${input.page > 1 && !input.search ? html`<a href="/${query({ ns: input.namespace })}">First page</a>` : ''}
        ${previousHref ? html`<a href="${previousHref}">Previous page</a>` : ''}
        ${nextHref ? html`<a href="${nextHref}">Next page</a>` : ''}</nav>`
      : ''}`;
}
