/**
 * The run summary: what a person who asked for a sync wants to know at a glance (did it do what I
 * asked, what changed, what was refused and why), as one model that every output renders: the report
 * e-mail (HTML and plain text), `-o html`, `-o markdown` and the console's Run page.
 */
import { categoryLines, formatDuration, twoWayLines, type EntityReport, type RunReport } from '../engine/report.js';
import type { ExportRunReport } from '../export/run-export.js';
import { scrubSecrets } from './scrub.js';

export type SummaryOutcome = 'Succeeded' | 'SucceededWithRejects' | 'Failed';

export interface SummaryCount {
  label: string;
  value: number;
}

export interface ChangedEntity {
  name: string;
  /** The non-zero counters, in reading order (created, updated, ..., rejected). */
  counts: SummaryCount[];
  read: number;
  durationMs: number;
}

export interface SummaryRejectedRow {
  entity: string;
  key: string | null;
  reason: string;
}

export interface SummaryFile {
  name: string;
  entity: string;
  rows: number;
  bytes: number;
  sha256: string;
}

export interface SummaryDestination {
  target: string;
  state: 'Succeeded' | 'Failed';
  filesTransferred: number;
  files: number;
  bytes: number;
  /** The first failure (`file: reason: message`), when one file did not arrive. */
  failure?: string;
}

export interface RunSummary {
  outcome: SummaryOutcome;
  /** The one line that says whether the run did what was asked. */
  headline: string;
  /** `sync/crm · Full sync` */
  title: string;
  facts: { label: string; value: string }[];
  requestedBy?: string;
  /** Entities that wrote, linked, rejected or noticed something, with their non-zero counts. */
  changed: ChangedEntity[];
  /** The changed entities left out of `changed` when there are many (a first Full run), as one line. */
  changedMore?: string;
  /** The entities with nothing to do, as one line. */
  idle?: string;
  rejected: { rows: SummaryRejectedRow[]; total: number; more: number };
  /** The run's error, when the headline does not already say it (an export whose transfers failed). */
  error?: string;
  notes: { lines: string[]; more: number };
  export?: { files: SummaryFile[]; destinations: SummaryDestination[] };
  /** The run's page in the console, when its address is configured. */
  link?: { href: string; label: string };
}

export interface SummaryContext {
  /** `namespace/name` of the flow, for a SyncJob that ended without a report. */
  flow?: string;
  /** Who asked for the run (the SyncJob's spec.requestedBy). */
  requestedBy?: string;
  /** The console's external address (`console.url`); with `namespace` and `syncJob` the summary links to the run's page. */
  consoleUrl?: string;
  namespace?: string;
  syncJob?: string;
  /** The SyncJob's mode, phase, failure reason and message: what the summary says when there is no report (the run never started). */
  mode?: string;
  phase?: string;
  reason?: string;
  message?: string;
  /** Values that must never appear (passwords the caller knows of). */
  secrets?: readonly string[];
  /** How many rejected rows and notes to list before "and N more" (default 5 and 8). */
  rejectedShown?: number;
  notesShown?: number;
}

const COUNT_LABELS: [keyof EntityReport, string][] = [
  ['created', 'created'],
  ['updated', 'updated'],
  ['linked', 'linked'],
  ['archived', 'archived'],
  ['deleted', 'deleted'],
  ['rejected', 'rejected'],
  ['sourceGone', 'gone from the source'],
  ['skipped', 'skipped by conditions'],
];
const WRITE_VERBS = ['created', 'updated', 'linked', 'archived', 'deleted'] as const;
const IDLE_NAMES_SHOWN = 8;
const CHANGED_SHOWN = 12;

const number = new Intl.NumberFormat('en-US');
export const formatCount = (n: number): string => number.format(n);
/** `2,000 created, 3 rejected` */
export const countsText = (counts: SummaryCount[]): string => counts.map((c) => `${formatCount(c.value)} ${c.label}`).join(', ');
const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;

function isExport(report: RunReport): report is ExportRunReport {
  return 'export' in report && typeof (report as ExportRunReport).export === 'object';
}

function written(e: Pick<EntityReport, (typeof WRITE_VERBS)[number]>): number {
  return WRITE_VERBS.reduce((n, verb) => n + e[verb], 0);
}

function isChanged(e: EntityReport): boolean {
  const t = e.twoWay;
  return written(e) + e.rejected + e.sourceGone > 0 || Boolean(t && t.conflicts + t.blocked + t.released > 0);
}

/** `2,000 people and 8,876 related rows created`, naming the entity that changed most. */
function changePhrase(report: RunReport): string | undefined {
  const total = written(report.totals);
  if (total === 0) return undefined;
  const lead = [...report.entities].sort((a, b) => written(b) - written(a))[0]!;
  const rest = total - written(lead);
  const verbs = WRITE_VERBS.filter((verb) => report.totals[verb] > 0);
  const verb = verbs.length === 1 ? verbs[0] : `changed (${verbs.map((v) => `${formatCount(report.totals[v])} ${v}`).join(', ')})`;
  // Entity names are mostly plural nouns ("2,000 people"); one row reads better as "1 row of people".
  const leadRows = written(lead) === 1 ? `1 row of ${lead.name}` : `${formatCount(written(lead))} ${lead.name}`;
  const rows = rest > 0 ? `${leadRows} and ${plural(rest, 'related row')}` : leadRows;
  return `${rows} ${verb}`;
}

function syncHeadline(report: RunReport): string {
  const took = formatDuration(report.durationMs);
  const dry = report.dryRun ? 'Dry run, nothing written: ' : '';
  if (report.status === 'Failed') {
    const done = changePhrase(report);
    return `Failed after ${took}: ${report.error ?? 'no error was recorded'}${done ? ` (before it stopped: ${done})` : ''}`;
  }
  const change = changePhrase(report);
  const rejected = report.totals.rejected > 0 ? `; ${plural(report.totals.rejected, 'row')} rejected` : '';
  if (change) return `${dry}${change} in ${took}${rejected}`;
  if (report.totals.rejected > 0) return `${dry}Nothing written in ${took}${rejected}`;
  if (report.totals.read === 0) return `${dry}Nothing to sync: no rows to read (${took})`;
  return `${dry}Already in sync: ${plural(report.totals.read, 'row')} checked in ${took}, nothing to change`;
}

function exportHeadline(report: ExportRunReport): string {
  const took = formatDuration(report.durationMs);
  const { files, transfers, result, exportMode } = report.export;
  const targets = [...new Set(transfers.map((t) => t.target))];
  const failedTargets = [...new Set(transfers.filter((t) => t.status !== 'transferred').map((t) => t.target))];
  if (result === 'CreationFailed') return `Export failed after ${took}: no file was created: ${report.error ?? 'no error was recorded'}`;
  const rows = files.reduce((n, f) => n + f.rows, 0);
  const made = exportMode === 'Retransfer' ? `${plural(files.length, 'archived file')} sent again` : `${plural(files.length, 'file')} (${plural(rows, 'row')}) created`;
  if (targets.length === 0) return `${made} in ${took}; no destination to send ${files.length === 1 ? 'it' : 'them'} to`;
  if (failedTargets.length === 0) return `${made} and transferred to ${targets.length === 1 ? targets[0] : `${targets.length} destinations`} in ${took}`;
  return `${made}; transfer failed to ${failedTargets.join(', ')} (${formatCount(targets.length - failedTargets.length)} of ${plural(targets.length, 'destination')} succeeded) in ${took}`;
}

function noReportHeadline(context: SummaryContext): string {
  if (context.phase === 'Succeeded') return 'Succeeded; no report was recorded';
  const why = [context.reason, context.message].filter(Boolean).join(': ');
  return `Failed before any report was written${why ? `: ${why}` : ''}`;
}

function outcomeOf(report: RunReport | undefined, context: SummaryContext): SummaryOutcome {
  if (!report) return context.phase === 'Succeeded' ? 'Succeeded' : 'Failed';
  if (report.status === 'Failed') return 'Failed';
  return report.totals.rejected > 0 ? 'SucceededWithRejects' : 'Succeeded';
}

function changedEntity(e: EntityReport): ChangedEntity {
  return {
    name: e.name,
    counts: COUNT_LABELS.filter(([key]) => (e[key] as number) > 0).map(([key, label]) => ({ label, value: e[key] as number })),
    read: e.read,
    durationMs: e.durationMs,
  };
}

/**
 * The entities that changed, the ones with rejected rows and the most writes first when there are more
 * than fit in a glance; the rest in one line with their total.
 */
function changedEntities(changed: EntityReport[]): Pick<RunSummary, 'changed' | 'changedMore'> {
  if (changed.length <= CHANGED_SHOWN) return { changed: changed.map(changedEntity) };
  const ranked = [...changed].sort((a, b) => Number(b.rejected > 0) - Number(a.rejected > 0) || written(b) - written(a));
  const shown = new Set(ranked.slice(0, CHANGED_SHOWN));
  const rest = changed.filter((e) => !shown.has(e));
  const verbs = WRITE_VERBS.map((verb) => [verb, rest.reduce((n, e) => n + e[verb], 0)] as const).filter(([, n]) => n > 0);
  const rows = rest.reduce((n, e) => n + written(e), 0);
  return {
    changed: changed.filter((e) => shown.has(e)).map(changedEntity),
    changedMore: `${plural(rest.length, 'more entity', 'more entities')} changed: ${plural(rows, 'row')} (${verbs.map(([verb, n]) => `${formatCount(n)} ${verb}`).join(', ')})`,
  };
}

function idleLine(idle: EntityReport[]): string | undefined {
  if (idle.length === 0) return undefined;
  const names = idle.slice(0, IDLE_NAMES_SHOWN).map((e) => e.name);
  const more = idle.length - names.length;
  const read = idle.reduce((n, e) => n + e.read, 0);
  const checked = read > 0 ? ` (${plural(read, 'row')} read, all in sync)` : '';
  return `No changes in ${plural(idle.length, 'entity', 'entities')}: ${names.join(', ')}${more > 0 ? ` and ${formatCount(more)} more` : ''}${checked}`;
}

function destinations(report: ExportRunReport): SummaryDestination[] {
  const targets = [...new Set(report.export.transfers.map((t) => t.target))];
  return targets.map((target) => {
    const own = report.export.transfers.filter((t) => t.target === target);
    const done = own.filter((t) => t.status === 'transferred');
    const failed = own.find((t) => t.status !== 'transferred');
    return {
      target,
      state: failed ? 'Failed' : 'Succeeded',
      filesTransferred: done.length,
      files: own.length,
      bytes: done.reduce((n, t) => n + (t.bytes ?? 0), 0),
      ...(failed ? { failure: `${failed.file}: ${failed.reason ?? 'failed'}${failed.message ? `: ${failed.message}` : ''}` } : {}),
    };
  });
}

function modeText(report: RunReport | undefined, context: SummaryContext): string {
  const mode = report?.mode ?? context.mode ?? 'unknown';
  return report?.subject ? `${mode} ${report.subject}` : mode;
}

function consoleLink(context: SummaryContext): RunSummary['link'] {
  const { consoleUrl, namespace, syncJob } = context;
  if (!consoleUrl || !namespace || !syncJob || !/^https?:\/\//i.test(consoleUrl)) return undefined;
  return { href: `${consoleUrl.replace(/\/+$/, '')}/runs/${encodeURIComponent(syncJob)}?ns=${encodeURIComponent(namespace)}`, label: 'Open this run in the Ferry console' };
}

/** Every string of the summary with secrets masked: the summary is built from data and error messages. */
function scrubbed<T>(value: T, secrets: readonly string[]): T {
  if (typeof value === 'string') return scrubSecrets(value, secrets) as T;
  if (Array.isArray(value)) return value.map((v) => scrubbed(v, secrets)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubbed(v, secrets)])) as T;
  return value;
}

/** The summary of a finished run (sync or export), or of a SyncJob that ended without a report. */
export function summarizeRun(report: RunReport | undefined, context: SummaryContext = {}): RunSummary {
  const flow = report?.flow ?? context.flow ?? 'unknown flow';
  const exported = report && isExport(report) ? report : undefined;
  const headline = !report ? noReportHeadline(context) : exported ? exportHeadline(exported) : syncHeadline(report);
  const entities = exported ? [] : (report?.entities ?? []);
  const shownRejected = context.rejectedShown ?? 5;
  const samples = report?.rejectedSamples ?? [];
  const rejectedTotal = Math.max(report?.totals.rejected ?? 0, samples.length);
  const entityNotes = report && !exported ? [...twoWayLines(report), ...categoryLines(report), ...report.entities.flatMap((e) => e.notes.map((n) => `${e.name}: ${n}`))] : [];
  const notes = [...(report?.notes ?? []), ...entityNotes];
  const notesShown = context.notesShown ?? 8;
  const idle = idleLine(entities.filter((e) => !isChanged(e)));
  const link = consoleLink(context);
  const started = report ? report.startedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') : undefined;
  const summary: RunSummary = {
    outcome: outcomeOf(report, context),
    headline,
    title: `${flow} · ${modeText(report, context)}${exported ? ' export' : ' sync'}`,
    facts: [
      { label: 'Flow', value: flow },
      { label: 'Mode', value: `${modeText(report, context)}${report?.dryRun ? ' (dry run)' : ''}` },
      ...(context.syncJob ? [{ label: 'SyncJob', value: context.syncJob }] : []),
      ...(report ? [{ label: 'Run', value: report.runId }] : []),
      ...(started ? [{ label: 'Started', value: started }] : []),
      ...(report ? [{ label: 'Duration', value: formatDuration(report.durationMs) }] : []),
      ...(context.requestedBy ? [{ label: 'Requested by', value: context.requestedBy }] : []),
    ],
    ...(context.requestedBy ? { requestedBy: context.requestedBy } : {}),
    ...changedEntities(entities.filter(isChanged)),
    ...(idle ? { idle } : {}),
    rejected: { rows: samples.slice(0, shownRejected), total: rejectedTotal, more: rejectedTotal - Math.min(samples.length, shownRejected) },
    // The error once: a failed sync's headline already is its error.
    ...(report?.error && !headline.includes(report.error) ? { error: report.error } : {}),
    notes: { lines: notes.slice(0, notesShown), more: Math.max(0, notes.length - notesShown) },
    ...(exported ? { export: { files: exported.export.files.map(({ name, entity, rows, bytes, sha256 }) => ({ name, entity, rows, bytes, sha256 })), destinations: destinations(exported) } } : {}),
    ...(link ? { link } : {}),
  };
  return scrubbed(summary, context.secrets ?? []);
}
