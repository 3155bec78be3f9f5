/** Text the plugin prints: pure functions of the objects read from the API server and the clock. */
import Table from 'cli-table3';
import { Cron } from 'croner';
import { PAIR_CATEGORIES, type SyncFlow } from '../../api/syncflow.js';
import type { SyncJob } from '../../api/syncjob.js';
import { suggestionLabel, type Pair } from '../../data-api/objects.js';

export const TERMINAL_PHASES = ['Succeeded', 'Failed', 'Rejected'] as const;
export const isTerminal = (job: SyncJob) => (TERMINAL_PHASES as readonly string[]).includes(job.status?.phase ?? '');

/** 83 -> "1m23s", 3725 -> "1h2m5s". */
export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}

export function progressBar(fraction: number, width = 30): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(clamped * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(clamped * 100)).padStart(3)}%`;
}

const seconds = (from?: string, to?: Date | string) =>
  from ? ((to ? new Date(to).getTime() : Date.now()) - new Date(from).getTime()) / 1000 : undefined;

/** Run time: the controller's duration when present, else completedAt - startedAt, else time so far. */
export function jobDuration(job: SyncJob, now: Date): string {
  if (job.status?.duration) return job.status.duration;
  const elapsed = seconds(job.status?.startedAt, job.status?.completedAt ?? now);
  return elapsed === undefined ? '-' : formatDuration(elapsed);
}

function rowsRead(job: SyncJob): number {
  return (job.status?.summary?.entities ?? []).reduce((sum, e) => sum + e.read, 0);
}

/**
 * One line for the run as it is now. A Running job's progress is its elapsed time against the estimate
 * (capped at 99% until the controller says it is done): the estimate is what the run is measured by.
 */
export function progressLine(job: SyncJob, now: Date, width = 30): string {
  const phase = job.status?.phase ?? 'Pending';
  const estimate = job.status?.estimate;
  if (phase === 'Running' && job.status?.startedAt) {
    const elapsed = seconds(job.status.startedAt, now) ?? 0;
    const fraction = estimate?.seconds ? Math.min(0.99, elapsed / estimate.seconds) : 0;
    const read = rowsRead(job);
    return [
      `Running ${progressBar(fraction, width)}`,
      `${formatDuration(elapsed)}${estimate ? ` of ~${formatDuration(estimate.seconds)}` : ''}`,
      read ? `${read.toLocaleString('en-US')} rows read` : '',
    ]
      .filter(Boolean)
      .join('  ');
  }
  if (isTerminal(job)) {
    return `${phase}${phase === 'Succeeded' ? ` ${progressBar(1, width)}` : ''}  ${jobDuration(job, now)}${job.status?.message ? `  ${job.status.message}` : ''}`;
  }
  return `${phase}${job.status?.message ? `: ${job.status.message}` : ''}`;
}

export function estimateText(job: SyncJob): string {
  const estimate = job.status?.estimate;
  return estimate ? `~${formatDuration(estimate.seconds)} (${estimate.basis})` : 'not estimated yet';
}

/** Per-entity counts, plus transfer outcomes for exports. */
export function summaryTable(job: SyncJob): string {
  const entities = job.status?.summary?.entities ?? [];
  const transfers = job.status?.summary?.transfers ?? [];
  const parts: string[] = [];
  if (entities.length) {
    const table = new Table({
      head: ['entity', 'read', 'created', 'updated', 'unchanged', 'archived', 'deleted', 'rejected'],
      style: { head: [], border: [] },
      colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    });
    const active = entities.filter((e) => e.read || e.created || e.updated || e.archived || e.deleted || e.rejected);
    for (const e of active) table.push([e.name, e.read, e.created, e.updated, e.unchanged, e.archived, e.deleted, e.rejected]);
    const total = (key: 'read' | 'created' | 'updated' | 'unchanged' | 'archived' | 'deleted' | 'rejected') => entities.reduce((s, e) => s + e[key], 0);
    table.push(['total', total('read'), total('created'), total('updated'), total('unchanged'), total('archived'), total('deleted'), total('rejected')]);
    parts.push(table.toString());
    const idle = entities.length - active.length;
    if (idle > 0) parts.push(`${idle} more ${idle === 1 ? 'entity' : 'entities'} had nothing to read.`);
  }
  if (transfers.length) {
    const table = new Table({ head: ['target', 'state', 'bytes', 'message'], style: { head: [], border: [] } });
    for (const t of transfers) table.push([t.target, t.state, t.bytes ?? '', t.message ?? '']);
    parts.push(table.toString());
  }
  return parts.join('\n') || 'No summary yet.';
}

export function creationTime(job: SyncJob): number {
  return new Date(job.metadata.creationTimestamp ?? 0).getTime();
}

const jobsOfFlow = (jobs: SyncJob[], flow: string) =>
  jobs.filter((j) => j.spec.flowRef.name === flow).sort((a, b) => creationTime(b) - creationTime(a));

function modeText(job: SyncJob): string {
  const spec = job.spec;
  if (spec.mode === 'Scope') return `Scope ${spec.scope}${spec.scopeMode ? ` (${spec.scopeMode})` : ''}`;
  if (spec.mode === 'Record' && spec.record) return `Record ${spec.record.entity}/${spec.record.key}`;
  if (spec.mode === 'Retransfer' && spec.retransfer) return `Retransfer ${spec.retransfer.runId}`;
  return spec.mode + (spec.dryRun ? ' (dry run)' : '');
}

function transferText(job: SyncJob): string {
  const transfers = job.status?.summary?.transfers ?? [];
  return transfers.map((t) => `${t.target}: ${t.state}`).join(', ') || '-';
}

const shortTime = (iso?: string) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, 'Z') : '-');

/** `kubectl ferry runs FLOW`: past runs, newest first, with creation and transfer status. */
export function runsTable(jobs: SyncJob[], flow: string, now: Date): string {
  const runs = jobsOfFlow(jobs, flow);
  if (runs.length === 0) return `No SyncJobs for flow ${flow}.`;
  const table = new Table({
    head: ['NAME', 'MODE', 'PHASE', 'CREATED', 'STARTED', 'DURATION', 'TRANSFERS', 'MESSAGE'],
    style: { head: [], border: [], compact: true },
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
  });
  for (const job of runs) {
    table.push([
      job.metadata.name,
      modeText(job),
      job.status?.phase ?? 'Pending',
      shortTime(job.metadata.creationTimestamp),
      shortTime(job.status?.startedAt),
      jobDuration(job, now),
      transferText(job),
      (job.status?.message ?? '').slice(0, 80),
    ]);
  }
  return table.toString().split('\n').map((line) => line.trimEnd().replace(/^ /, '')).join('\n');
}

/** Wall-clock time in a zone, e.g. "2026-11-23 01:30 CET". */
export function zonedTime(date: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(date);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${get('timeZoneName')}`;
}

export interface NextRun {
  schedule: string;
  mode: string;
  at?: Date;
  timeZone: string;
  note?: string;
}

/** The next slot of every schedule, in its own time zone; suspended schedules say so. */
export function nextRuns(flow: SyncFlow, now: Date): NextRun[] {
  return (flow.spec.schedules ?? []).map((schedule) => {
    const timeZone = schedule.timeZone ?? 'UTC';
    const mode = schedule.mode === 'Scope' ? `Scope ${schedule.scope}` : schedule.mode;
    const gate = schedule.enabledIn?.length ? `only in ${schedule.enabledIn.join(', ')}` : undefined;
    if (flow.spec.suspend || schedule.suspend) {
      return { schedule: schedule.name, mode, timeZone, note: flow.spec.suspend ? 'flow suspended' : 'suspended' };
    }
    let at: Date | undefined;
    try {
      at = new Cron(schedule.cron, { paused: true, timezone: timeZone }).nextRun(now) ?? undefined;
    } catch {
      return { schedule: schedule.name, mode, timeZone, note: `invalid cron "${schedule.cron}"` };
    }
    return { schedule: schedule.name, mode, at, timeZone, ...(gate ? { note: gate } : {}) };
  });
}

function condition(flow: SyncFlow, type: string) {
  return flow.status?.conditions?.find((c) => c.type === type);
}

/** What a schedule does on a DST night within the coming year (console/dst.ts), or undefined. */
export type DstNote = (cron: string, timeZone: string, now: Date) => string | undefined;

/** `kubectl ferry status [FLOW]`: one block per flow; `dstNote` adds a line under a schedule with a slot in a skipped or repeated hour. */
export function flowDashboard(flow: SyncFlow, jobs: SyncJob[], now: Date, dstNote?: DstNote): string {
  const lines: string[] = [];
  const ready = condition(flow, 'Ready');
  const readyText = ready ? `${ready.status}${ready.status !== 'True' && ready.message ? ` (${ready.reason}: ${ready.message})` : ''}` : 'Unknown';
  lines.push(`${flow.metadata.name}  ${flow.spec.direction ?? 'OneWay'}${flow.spec.suspend ? '  SUSPENDED' : ''}`);
  lines.push(`  Ready:      ${readyText}`);

  const runs = jobsOfFlow(jobs, flow.metadata.name);
  const active = runs.find((j) => !isTerminal(j) && j.status?.phase !== undefined && j.status.phase !== 'Pending') ?? runs.find((j) => !isTerminal(j));
  if (active) {
    lines.push(`  Active:     ${active.metadata.name}  ${modeText(active)}`);
    lines.push(`              ${progressLine(active, now, 20)}`);
    lines.push(`              estimate ${estimateText(active)}`);
  } else {
    lines.push('  Active:     none');
  }

  const upcoming = nextRuns(flow, now);
  if (upcoming.length === 0) lines.push('  Next runs:  no schedules');
  upcoming.forEach((run, i) => {
    const when = run.at ? zonedTime(run.at, run.timeZone) : '-';
    lines.push(`  ${i === 0 ? 'Next runs:' : '          '}  ${run.schedule.padEnd(16)} ${run.mode.padEnd(16)} ${when}${run.note ? `  (${run.note})` : ''}`);
    const note = run.at && dstNote?.(flow.spec.schedules![i].cron, run.timeZone, now);
    if (note) lines.push(`              ${''.padEnd(16)} DST: ${note}`);
  });

  const finished = runs.filter(isTerminal).slice(0, 5);
  if (finished.length === 0) lines.push('  Last runs:  none');
  finished.forEach((job, i) => {
    const result = job.status?.phase ?? '';
    lines.push(
      `  ${i === 0 ? 'Last runs:' : '          '}  ${job.metadata.name.padEnd(36)} ${modeText(job).padEnd(16)} ${result.padEnd(9)} ${jobDuration(job, now).padStart(8)}  ${shortTime(job.status?.completedAt)}`,
    );
  });

  const categories = flow.status?.categories ?? {};
  lines.push(`  Pairs:      ${PAIR_CATEGORIES.map((c) => `${c} ${(categories[c] ?? 0).toLocaleString('en-US')}`).join(' · ')}`);
  return lines.join('\n');
}

/**
 * Why a run was rejected, in the words of the seed's disabled sync buttons: "members is already
 * syncing: members-overnight-1763778600, running since 01:30". The time is the viewer's local time.
 */
export function busyMessage(flow: string, active: SyncJob, timeZone?: string): string {
  const since = active.status?.startedAt ?? active.metadata.creationTimestamp;
  const clock = since
    ? ` since ${new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', ...(timeZone ? { timeZone } : {}) }).format(new Date(since))}`
    : '';
  return `${flow} is already syncing: ${active.metadata.name}, ${active.status?.phase === 'Running' ? 'running' : (active.status?.phase ?? 'pending').toLowerCase()}${clock}`;
}

/** `kubectl ferry conflicts FLOW`: each pair in conflict with its differing fields side by side. */
export function conflictsText(pairs: Pair[], flow: string): string {
  if (pairs.length === 0) return `No conflicts in flow ${flow}.`;
  const blocks = pairs.map((pair) => {
    const header = `${pair.entity} ${pair.sourceKey} ↔ ${pair.targetKey}  (${pair.metadata.name}${pair.conflict ? `, detected ${shortTime(pair.conflict.detectedAt)}` : ''})`;
    const fields = pair.conflict?.fields ?? [];
    if (fields.length === 0) return `${header}\n  (no field values recorded yet: the next run of the flow records them)`;
    const table = new Table({
      head: ['FIELD', 'SOURCE VALUE', 'TARGET VALUE', 'SOURCE CHANGED', 'TARGET CHANGED'],
      style: { head: [], border: [], compact: true },
      chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '  ', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
    });
    for (const f of fields) {
      const name = f.field === f.targetField ? f.field : `${f.field} → ${f.targetField}`;
      table.push([name, f.sourceValue ?? '(null)', f.targetValue ?? '(null)', shortTime(f.sourceChangedAt), shortTime(f.targetChangedAt)]);
    }
    return `${header}\n${table.toString()}`;
  });
  const masked = pairs.some((p) => p.conflict?.fields.some((f) => f.masked));
  return [
    ...blocks,
    `${pairs.length} conflict${pairs.length === 1 ? '' : 's'}. Resolve per field: kubectl ferry resolve ${flow} --entity ENTITY --source-key KEY --keep FIELD=source|target,...`,
    ...(masked ? ['Values shown as ****** are of sensitive fields: seeing them takes get on pairs/unmasked (ferry-edit).'] : []),
  ].join('\n\n');
}

/** `kubectl ferry new`: the unpaired records of a flow with their suggested partners, and how to link one. */
export function newRecordsText(records: Pair[], flow: string): string {
  if (records.length === 0) return `No unpaired records in flow ${flow}.`;
  const table = new Table({ head: ['ENTITY', 'SIDE', 'KEY', 'SUGGESTED PARTNERS (AGREEING MATCH FIELDS)'], style: { head: [], border: [] } });
  for (const r of records) {
    const view = r.unpaired;
    const suggestions = (view?.suggestions ?? []).map(suggestionLabel);
    table.push([r.entity, view?.side ?? '', r.sourceKey || r.targetKey, suggestions.join('\n') || '-']);
  }
  return [
    table.toString(),
    `${records.length} unpaired record${records.length === 1 ? '' : 's'}. Link one: kubectl ferry resolve ${flow} --entity ENTITY --link SOURCE_KEY=TARGET_KEY`,
  ].join('\n\n');
}
