import { TableClass } from '../util/on-demand.js';
import { PAIR_CATEGORIES } from '../api/syncflow.js';
import type { EntityCounters, Watermark } from '../store/run-state.js';
import { redactSecrets } from '../util/redact.js';
import type { RejectedSample } from './entity-sync.js';
import type { CategoryCounts, TwoWayCounters } from './two-way/types.js';

export interface EntityReport extends Omit<EntityCounters, 'durationMs'> {
  name: string;
  durationMs: number;
  notes: string[];
  /** Creates an earlier attempt may have applied (lost answer, interrupted run), completed without a second record; absent when none. */
  recoveredCreates?: number;
  /** Two-way runs: what went which way, conflicts, changes held back by the window, echoes ignored. */
  twoWay?: TwoWayCounters;
  /** Pairs per category after the run (seed 003); `new` counts records this run left unpaired. */
  categories?: CategoryCounts;
}

export interface RunReport {
  runId: string;
  flow: string;
  mode: string;
  /** What a Scope or Record run covered: `events (Full)` (scope and mode) or `people/42` (entity and key). */
  subject?: string;
  dryRun: boolean;
  status: 'Succeeded' | 'Failed';
  startedAt: string;
  completedAt: string;
  durationMs: number;
  watermarksBefore: Record<string, Watermark>;
  watermarksAfter: Record<string, Watermark>;
  entities: EntityReport[];
  totals: Omit<EntityCounters, 'durationMs'>;
  rejectedSamples: RejectedSample[];
  /** About the run as a whole (e.g. which SyncFlow generation ran), not about one entity. */
  notes?: string[];
  error?: string;
}

/** The report of a finished run, sync or export: timing, status and totals derived the same way for both. */
export function buildRunReport(run: {
  runId: string;
  flow: string;
  mode: string;
  subject?: string;
  dryRun: boolean;
  startedAt: Date;
  completedAt: Date;
  watermarksBefore: RunReport['watermarksBefore'];
  watermarksAfter: RunReport['watermarksAfter'];
  entities: EntityReport[];
  rejectedSamples: RejectedSample[];
  notes?: string[];
  failure: unknown;
}): RunReport {
  const { failure, startedAt, completedAt, subject, notes, ...rest } = run;
  return {
    ...rest,
    ...(subject !== undefined ? { subject } : {}),
    ...(notes?.length ? { notes } : {}),
    status: failure ? 'Failed' : 'Succeeded',
    startedAt: startedAt.toISOString(),
    completedAt: completedAt.toISOString(),
    durationMs: completedAt.getTime() - startedAt.getTime(),
    totals: totalsOf(run.entities),
    // The report goes to the state database, -o json, e-mails and status: no secret in any form.
    ...(failure ? { error: redactSecrets(failure instanceof Error ? failure.message : String(failure)) } : {}),
  };
}

export const COUNTER_COLUMNS = ['read', 'created', 'updated', 'unchanged', 'archived', 'deleted', 'rejected'] as const;

export function totalsOf(entities: EntityReport[]): RunReport['totals'] {
  const totals = { read: 0, created: 0, updated: 0, unchanged: 0, archived: 0, deleted: 0, rejected: 0, linked: 0, skipped: 0, sourceGone: 0 };
  for (const e of entities) for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += e[key];
  return totals;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function headline(report: RunReport): string {
  const dry = report.dryRun ? ' (dry run: nothing written)' : '';
  const mode = report.subject ? `${report.mode} ${report.subject}` : report.mode;
  return `${report.flow} · ${mode} · ${report.status} in ${formatDuration(report.durationMs)} · run ${report.runId}${dry}`;
}

export function renderTable(report: RunReport): string {
  const Table = TableClass();
  const table = new Table({
    head: ['entity', ...COUNTER_COLUMNS, 'duration'],
    colAligns: ['left', ...COUNTER_COLUMNS.map(() => 'right' as const), 'right'],
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  const idle = report.entities.filter((e) => COUNTER_COLUMNS.every((c) => e[c] === 0));
  const shown = idle.length > 3 ? report.entities.filter((e) => !idle.includes(e)) : report.entities;
  for (const e of shown) {
    table.push([e.name, ...COUNTER_COLUMNS.map((c) => String(e[c])), formatDuration(e.durationMs)]);
  }

  table.push(['TOTAL', ...COUNTER_COLUMNS.map((c) => String(report.totals[c])), formatDuration(report.durationMs)]);
  const lines = [headline(report), table.toString()];
  if (shown.length < report.entities.length) lines.push(`${idle.length} more entities had no rows to sync.`);
  const extras = [];
  if (report.totals.linked) extras.push(`${report.totals.linked} linked to existing target rows`);
  if (report.totals.skipped) extras.push(`${report.totals.skipped} skipped by conditions or actions`);
  if (report.totals.sourceGone) extras.push(`${report.totals.sourceGone} vanished from the source (reported only)`);
  if (extras.length) lines.push(extras.join(' · '));
  lines.push(...twoWayLines(report), ...categoryLines(report));
  for (const note of report.notes ?? []) lines.push(`note: ${note}`);
  for (const e of report.entities) for (const note of e.notes) lines.push(`note: ${e.name}: ${note}`);
  if (report.rejectedSamples.length > 0) {
    lines.push('rejected rows (sample):');
    for (const r of report.rejectedSamples.slice(0, 20)) lines.push(`  ${r.entity} ${r.key ?? '(no key)'}: ${r.reason}`);
  }
  if (report.error) lines.push(`error: ${report.error}`);
  return lines.join('\n');
}

/** One line per two-way entity that did something: writes per direction, conflicts, window, echoes. */
export function twoWayLines(report: RunReport): string[] {
  const lines: string[] = [];
  for (const e of report.entities) {
    const t = e.twoWay;
    if (!t) continue;
    const parts: string[] = [];
    const side = (label: string, created: number, updated: number, archived: number, deleted: number) => {
      const done = [
        created ? `${created} created` : '',
        updated ? `${updated} updated` : '',
        archived ? `${archived} archived` : '',
        deleted ? `${deleted} deleted` : '',
      ].filter(Boolean);
      if (done.length) parts.push(`${label} ${done.join(', ')}`);
    };
    side('→ target:', t.createdInTarget, t.updatedTarget, t.archivedTarget, t.deletedTarget);
    side('← source:', t.createdInSource, t.updatedSource, t.archivedSource, t.deletedSource);
    if (t.conflicts) parts.push(`${t.conflicts} conflicts left for resolution`);
    if (t.blocked) parts.push(`${t.blocked} held back by the loop-protection window`);
    if (t.heldInactive) parts.push(`${t.heldInactive} changes of inactive records held back`);
    if (t.released) parts.push(`${t.released} held-back changes applied`);
    if (t.echoes) parts.push(`${t.echoes} echoes of Ferry's own writes ignored`);
    if (parts.length) lines.push(`${e.name}: ${parts.join(' · ')}`);
  }
  return lines;
}

/**
 * Pair categories per entity, e.g. `pairs people: 0 conflict · 3 new · 1 deleted · ...`. A two-way
 * entity lists all six categories, zeros included, whatever the run's mode: the counts are the flow's
 * state after the run (the same numbers as `ferry pairs` and SyncFlow.status), not what the run touched.
 */
export function categoryLines(report: RunReport): string[] {
  const lines: string[] = [];
  for (const e of report.entities) {
    const all = PAIR_CATEGORIES.map((c) => [c, e.categories?.[c] ?? 0] as const);
    const counts = e.twoWay ? all : all.filter(([, n]) => n);
    if (counts.length === 0 || (counts.length === 1 && counts[0][0] === 'synchronised' && !e.twoWay)) continue;
    lines.push(`pairs ${e.name}: ${counts.map(([category, n]) => `${n} ${category}`).join(' · ')}`);
  }
  return lines;
}

export function renderJson(report: RunReport): string {
  return JSON.stringify(report, null, 2);
}
