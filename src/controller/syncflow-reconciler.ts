import { API_VERSION, SYNC_MODES } from '../api/common.js';
import { removeCondition, setCondition, type Condition } from '../api/conditions.js';
import { checkManifestSchema } from '../api/schema-check.js';
import type { FlowHistoryEntry, SyncFlow, SyncFlowStatus } from '../api/syncflow.js';
import type { SyncJob, SyncJobSpec } from '../api/syncjob.js';
import { validateSyncFlow } from '../api/validate-flow.js';
import { exportsToReadOnlyTargets } from '../api/validate-export-target.js';
import { byAge, isActive, isFinished } from './admission.js';
import { flowIdOf, type ControllerContext } from './context.js';
import { jobNameFor } from './job-builder.js';
import { isStatus } from './kube.js';
import { ANNOTATION_SYNC_REQUESTED, LABEL_FLOW, LABEL_MANAGED_BY, LABEL_SCHEDULE, MANAGED_BY, labelValue } from './labels.js';
import { decideSchedule, scheduleEnabledIn, scheduledJobName } from './schedule.js';
import { parseTrigger, triggeredJobName } from './trigger.js';

type Result = { requeueAfterMs?: number } | void;

const HISTORY_LENGTH = 5;
const CATEGORY_REFRESH_MS = 30_000;
const RESYNC_MS = 5 * 60_000;

function time(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function completedAt(job: SyncJob): number {
  const at = job.status?.completedAt ?? job.metadata.creationTimestamp;
  return at ? new Date(at).getTime() : 0;
}

/** Compares status objects ignoring key order. */
function same(a: unknown, b: unknown): boolean {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).sort(([x], [y]) => x.localeCompare(y)).map(([k, v]) => [k, canonical(v)]))
        : value;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/**
 * The status fields this reconciler writes: status.sourceListing is the ExportTarget reconciler's
 * (its read probe), and a patch from a copy read before that probe wrote it would put the old one back.
 */
function ownFields(status: SyncFlowStatus): Record<string, unknown> {
  const { sourceListing: _written, ...own } = status;
  return own;
}

export class SyncFlowReconciler {
  private readonly categoriesReadAt = new Map<string, number>();

  constructor(private readonly ctx: ControllerContext) {}

  async reconcile(namespace: string, name: string): Promise<Result> {
    const flow = this.ctx.fresh('SyncFlow', this.ctx.flows.get(namespace, name));
    if (!flow || flow.metadata.deletionTimestamp) return;
    const now = this.ctx.now();
    const generation = flow.metadata.generation;
    const previous = flow.status ?? {};
    const status: SyncFlowStatus = structuredClone(previous);
    // A listing is only written through an ExportTarget; one left from a source that no longer reads through one is stale.
    if (!flow.spec.source.files?.exportTargetRef) delete status.sourceListing;
    status.observedGeneration = generation;

    const errors = [
      ...checkManifestSchema(structuredClone({ apiVersion: flow.apiVersion ?? API_VERSION, kind: 'SyncFlow', metadata: { name }, spec: flow.spec })),
    ];
    if (errors.length === 0) errors.push(...validateSyncFlow(flow), ...exportsToReadOnlyTargets(flow, this.ctx.targets.list((t) => t.metadata.namespace === namespace)));
    if (errors.length > 0) {
      const message = errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ').slice(0, 4000);
      status.conditions = setCondition(status.conditions, { type: 'Ready', status: 'False', reason: 'InvalidSpec', message, observedGeneration: generation }, now);
      status.conditions = setCondition(status.conditions, { type: 'Stalled', status: 'True', reason: 'InvalidSpec', message, observedGeneration: generation }, now);
      status.conditions = removeCondition(status.conditions, 'Reconciling');
      if (!same(previous, status)) {
        await this.ctx.patchStatus('SyncFlow', flow, ownFields(status));
        this.ctx.event(flow, 'Warning', 'InvalidSpec', message);
      }
      return;
    }

    const jobs = this.ctx.syncJobs
      .list((j) => j.metadata.namespace === namespace && j.spec.flowRef.name === name)
      .map((j) => this.ctx.fresh('SyncJob', j)!);
    let requeueAfterMs = RESYNC_MS;

    // Manual trigger annotation: one SyncJob per new token.
    const request = flow.metadata.annotations?.[ANNOTATION_SYNC_REQUESTED];
    let triggerProblem: string | undefined;
    if (request && request !== previous.lastHandledRequest) {
      const parsed = parseTrigger(request);
      if ('error' in parsed) triggerProblem = `${ANNOTATION_SYNC_REQUESTED}: ${parsed.error}`;
      else {
        const { token: _token, ...spec } = parsed;
        await this.createSyncJob(flow, triggeredJobName(name, request), spec, { 'ferry.dev/trigger': 'annotation' });
        status.lastHandledRequest = request;
        this.ctx.event(flow, 'Normal', 'SyncRequested', `created SyncJob ${triggeredJobName(name, request)} for ${request}`);
      }
    }

    // Schedules.
    const scheduleStatus = new Map((previous.schedules ?? []).map((s) => [s.name, { ...s }]));
    const created = flow.metadata.creationTimestamp ? new Date(flow.metadata.creationTimestamp) : now;
    for (const schedule of flow.spec.schedules ?? []) {
      const entry = scheduleStatus.get(schedule.name) ?? { name: schedule.name };
      scheduleStatus.set(schedule.name, entry);
      const active = !flow.spec.suspend && !schedule.suspend && scheduleEnabledIn(schedule, this.ctx.config.environment);
      if (!active) {
        delete entry.nextScheduleTime;
        continue;
      }
      const since = entry.lastScheduleTime ? new Date(entry.lastScheduleTime) : created;
      const decision = decideSchedule(schedule, since, now);
      if (decision.runAt) {
        const jobName = scheduledJobName(name, schedule.name, decision.runAt);
        const spec: Pick<SyncJobSpec, 'mode' | 'scope'> = { mode: schedule.mode, ...(schedule.scope ? { scope: schedule.scope } : {}) };
        if ((schedule as { scopeMode?: string }).scopeMode) (spec as Record<string, unknown>).scopeMode = (schedule as { scopeMode?: string }).scopeMode;
        await this.createSyncJob(flow, jobName, spec, { [LABEL_SCHEDULE]: labelValue(schedule.name) });
        entry.lastScheduleTime = time(decision.runAt);
        this.ctx.event(flow, 'Normal', 'Scheduled', `schedule ${schedule.name} created SyncJob ${jobName}`);
      }
      if (decision.missed > 0) {
        entry.missed = (entry.missed ?? 0) + decision.missed;
        if (!decision.runAt) entry.lastScheduleTime = time(now); // do not count the same missed slots again
        this.ctx.event(flow, 'Warning', 'MissedSchedule', `schedule ${schedule.name} missed ${decision.missed}${decision.missedCapped ? '+' : ''} run(s) while the controller was down or late`);
      }
      if (decision.next) {
        entry.nextScheduleTime = time(decision.next);
        requeueAfterMs = Math.min(requeueAfterMs, Math.max(50, decision.next.getTime() - now.getTime() + 20));
      }
    }
    const scheduleNames = new Set((flow.spec.schedules ?? []).map((s) => s.name));
    status.schedules = [...scheduleStatus.values()].filter((s) => scheduleNames.has(s.name));
    if (status.schedules.length === 0) delete status.schedules;
    const nextTimes = (status.schedules ?? []).map((s) => s.nextScheduleTime).filter((t): t is string => Boolean(t)).sort();
    if (nextTimes.length) status.nextSyncTime = nextTimes[0];
    else delete status.nextSyncTime;

    // History limits, queue hand-over, and the run summary.
    await this.pruneHistory(flow, jobs);
    const active = jobs.filter(isActive).sort(byAge);
    if (active.length > 0) status.activeJob = { name: active[0].metadata.name };
    else delete status.activeJob;
    if (active.length === 0) {
      const next = jobs.filter((j) => j.status?.phase === 'Queued').sort(byAge)[0];
      if (next) this.ctx.enqueue('SyncJob', namespace, next.metadata.name);
    }
    // Runs that have not been looked at yet get admitted promptly too.
    for (const j of jobs) if (!j.status?.phase) this.ctx.enqueue('SyncJob', namespace, j.metadata.name);

    const history: FlowHistoryEntry[] = jobs
      .filter((j) => j.status?.phase && j.status.phase !== 'Pending')
      .sort((a, b) => completedAt(b) - completedAt(a) || byAge(b, a))
      .slice(0, HISTORY_LENGTH)
      .map((j) => ({
        jobName: j.metadata.name,
        mode: j.spec.mode,
        phase: j.status!.phase!,
        ...(j.status?.runId ? { runId: j.status.runId } : {}),
        ...(j.status?.startedAt ? { startedAt: j.status.startedAt } : {}),
        ...(j.status?.completedAt ? { completedAt: j.status.completedAt } : {}),
        ...(j.status?.message ? { message: j.status.message.slice(0, 1024) } : {}),
      }));
    if (history.length) status.history = history;
    const lastSuccess = { ...(previous.lastSuccessfulRun ?? {}) } as NonNullable<SyncFlowStatus['lastSuccessfulRun']>;
    for (const j of jobs.filter((j) => j.status?.phase === 'Succeeded' && j.status.completedAt)) {
      const mode = j.spec.mode as (typeof SYNC_MODES)[number];
      const known = lastSuccess[mode];
      if (!known || new Date(known.completedAt) < new Date(j.status!.completedAt!)) {
        lastSuccess[mode] = { runId: j.status!.runId ?? j.metadata.name, completedAt: j.status!.completedAt! };
      }
    }
    if (Object.keys(lastSuccess).length) {
      status.lastSuccessfulRun = lastSuccess;
      status.lastSyncTime = Object.values(lastSuccess).map((r) => r!.completedAt).sort().pop();
    }
    await this.refreshCategories(flow, status, now);

    const conditions: Condition[] = removeCondition(status.conditions, 'Stalled');
    const readyMessage = triggerProblem ?? (active.length ? `SyncJob ${active[0].metadata.name} is ${active[0].status?.phase?.toLowerCase()}` : status.nextSyncTime ? `next run at ${status.nextSyncTime}` : 'ready; no schedule');
    status.conditions = setCondition(
      conditions,
      { type: 'Ready', status: 'True', reason: triggerProblem ? 'InvalidSyncRequest' : active.length ? 'Syncing' : 'Idle', message: readyMessage, observedGeneration: generation },
      now,
    );
    status.conditions = removeCondition(status.conditions, 'Reconciling');

    if (!same(previous, status)) {
      const patch = ownFields(status);
      for (const key of Object.keys(previous)) if (!(key in status)) patch[key] = null;
      await this.ctx.patchStatus('SyncFlow', flow, patch);
    }
    return { requeueAfterMs };
  }

  private async createSyncJob(flow: SyncFlow, name: string, spec: Partial<SyncJobSpec>, labels: Record<string, string>): Promise<void> {
    const namespace = flow.metadata.namespace!;
    const body = {
      apiVersion: API_VERSION,
      kind: 'SyncJob',
      metadata: {
        name,
        namespace,
        labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_FLOW]: labelValue(flow.metadata.name), ...labels },
        ownerReferences: [{ apiVersion: API_VERSION, kind: 'SyncFlow', name: flow.metadata.name, uid: flow.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      spec: { flowRef: { name: flow.metadata.name }, ...spec },
    };
    try {
      await this.ctx.kube.create('SyncJob', body as SyncJob);
    } catch (error) {
      if (!isStatus(error, 409)) throw error; // already created for this slot or token: exactly once
    }
  }

  /** successfulJobsHistoryLimit / failedJobsHistoryLimit: delete the oldest finished SyncJobs with their Jobs and reports. */
  private async pruneHistory(flow: SyncFlow, jobs: SyncJob[]): Promise<void> {
    const limits = { ok: flow.spec.successfulJobsHistoryLimit ?? 10, failed: flow.spec.failedJobsHistoryLimit ?? 5 };
    const finished = jobs.filter(isFinished).sort((a, b) => completedAt(b) - completedAt(a) || byAge(b, a));
    const succeeded = finished.filter((j) => j.status?.phase === 'Succeeded');
    const failed = finished.filter((j) => j.status?.phase !== 'Succeeded');
    // Keep a finished run until its e-mail went out.
    const prunable = (j: SyncJob) => j.status?.notification?.state !== 'Retrying';
    for (const victim of [...succeeded.slice(limits.ok), ...failed.slice(limits.failed)].filter(prunable)) {
      const namespace = victim.metadata.namespace!;
      await this.ctx.kube.deleteJob(namespace, victim.status?.jobRef?.name ?? jobNameFor(victim));
      await this.ctx.kube.deleteConfigMap(namespace, `${victim.metadata.name}-report`);
      await this.ctx.kube.delete('SyncJob', namespace, victim.metadata.name);
    }
  }

  private async refreshCategories(flow: SyncFlow, status: SyncFlowStatus, now: Date): Promise<void> {
    const key = flowIdOf(flow.metadata.namespace!, flow.metadata.name);
    const last = this.categoriesReadAt.get(key) ?? 0;
    if (now.getTime() - last < CATEGORY_REFRESH_MS && status.categories) return;
    this.categoriesReadAt.set(key, now.getTime());
    try {
      const categories = await this.ctx.runs.categories(key);
      if (Object.keys(categories).length) status.categories = categories;
    } catch {
      // State DB briefly unavailable: keep the last counts.
    }
  }
}
