import type { V1ConfigMap } from '@kubernetes/client-node';
import pg from 'pg';
import { checkManifestSchema } from '../api/schema-check.js';
import { isConditionTrue, setCondition, type Condition } from '../api/conditions.js';
import type { SyncFlow } from '../api/syncflow.js';
import { databaseOf } from '../api/systems.js';
import type { EntitySummary, SyncJob, SyncJobStatus } from '../api/syncjob.js';
import { validateSyncJob } from '../api/validate-job.js';
import { renderTable, type RunReport } from '../engine/report.js';
import { countPendingRows } from '../connectors/postgres/pending-rows.js';
import { sendEmail, smtpSettingsFromSecret } from '../notify/mailer.js';
import { renderReportEmail } from '../notify/report-email.js';
import { byAge, decideAdmission, isActive, isFinished } from './admission.js';
import { flowIdOf, type ControllerContext, type JobObject } from './context.js';
import { generationNote } from './flow-generation.js';
import { reimportSentence } from './reimport-note.js';
import { buildJob, exportTargetNames, jobNameFor } from './job-builder.js';
import { errorMessage, isStatus } from './kube.js';
import { LABEL_FLOW, LABEL_MANAGED_BY, LABEL_SYNCJOB, MANAGED_BY, labelValue } from './labels.js';
import { runIdPrefix } from './run-id.js';
import type { RunRow } from './run-store.js';
import { transfersOf } from './transfers.js';
import { redactSecrets } from '../util/redact.js';
import { flowGenerations, recordAdmittedFlow } from '../store/admitted-flows.js';
import { ConfigError } from '../util/errors.js';

const PROGRESS_INTERVAL_MS = 2000;
const MAX_SUMMARY_ENTITIES = 200;
const REPORT_LIMIT_BYTES = 900 * 1024; // ConfigMaps must stay under 1 MiB in total
const MAX_EMAIL_ATTEMPTS = 8;
const PENDING_RECHECK_MS = 10_000;

type Result = { requeueAfterMs?: number } | void;

function time(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s % 60}s`;
}

function summaryOf(entities: { name: string; read: number; created: number; updated: number; unchanged: number; archived: number; deleted: number; rejected: number }[]): EntitySummary[] {
  return entities.slice(0, MAX_SUMMARY_ENTITIES).map((e) => ({
    name: e.name,
    read: e.read,
    created: e.created,
    updated: e.updated,
    unchanged: e.unchanged,
    archived: e.archived,
    deleted: e.deleted,
    rejected: e.rejected,
  }));
}

/** The report ConfigMap's payload, trimmed (rejected samples, then notes) until it fits. */
export function boundedReport(report: RunReport): { json: string; text: string } {
  let trimmed: RunReport = report;
  let json = JSON.stringify(trimmed, null, 1);
  for (const keep of [50, 10, 0]) {
    if (Buffer.byteLength(json) + Buffer.byteLength(renderTable(trimmed)) <= REPORT_LIMIT_BYTES) break;
    trimmed = { ...trimmed, rejectedSamples: trimmed.rejectedSamples.slice(0, keep), entities: trimmed.entities.map((e) => ({ ...e, notes: e.notes.slice(0, keep) })) };
    json = JSON.stringify(trimmed, null, 1);
  }
  let text = renderTable(trimmed);
  if (Buffer.byteLength(json) + Buffer.byteLength(text) > REPORT_LIMIT_BYTES) {
    json = JSON.stringify({ ...trimmed, entities: trimmed.entities.slice(0, 500), truncated: true });
    text = text.slice(0, 100_000);
  }
  return { json, text };
}

function conditionsFor(job: SyncJob, phase: string, reason: string, message: string, now: Date): Condition[] {
  const generation = job.metadata.generation;
  const finished = ['Succeeded', 'Failed', 'Rejected'].includes(phase);
  let conditions = setCondition(
    job.status?.conditions,
    { type: 'Ready', status: phase === 'Succeeded' ? 'True' : finished ? 'False' : 'Unknown', reason, message: message.slice(0, 4096), observedGeneration: generation },
    now,
  );
  conditions = finished
    ? conditions.filter((c) => c.type !== 'Reconciling')
    : setCondition(conditions, { type: 'Reconciling', status: 'True', reason, message: message.slice(0, 4096), observedGeneration: generation }, now);
  return conditions;
}

function jobCondition(job: JobObject | undefined, type: 'Complete' | 'Failed') {
  return job?.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

export class SyncJobReconciler {
  /** Admission of one flow's SyncJobs runs one at a time, so two new SyncJobs cannot both see the flow idle. */
  private readonly admissionLocks = new Map<string, Promise<unknown>>();

  constructor(private readonly ctx: ControllerContext) {}

  private withFlowLock<T>(flowKey: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.admissionLocks.get(flowKey) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(fn);
    const tail = next.catch(() => {});
    this.admissionLocks.set(flowKey, tail);
    void tail.then(() => {
      if (this.admissionLocks.get(flowKey) === tail) this.admissionLocks.delete(flowKey);
    });
    return next;
  }

  async reconcile(namespace: string, name: string): Promise<Result> {
    const job = this.ctx.fresh('SyncJob', this.ctx.syncJobs.get(namespace, name));
    if (!job || job.metadata.deletionTimestamp) return;
    const phase = job.status?.phase ?? 'Pending';
    if (phase === 'Pending' || phase === 'Queued') {
      return this.withFlowLock(`${namespace}/${job.spec.flowRef.name}`, async () => {
        // Re-read after waiting: another admission of this flow may have changed the picture.
        const current = this.ctx.fresh('SyncJob', this.ctx.syncJobs.get(namespace, name));
        if (!current || !['Pending', 'Queued'].includes(current.status?.phase ?? 'Pending')) return { requeueAfterMs: 0 };
        return this.admit(current);
      });
    }
    if (phase === 'Scheduled' || phase === 'Running') return this.track(job);
    return this.finishUp(job);
  }

  private flowOf(job: SyncJob): SyncFlow | undefined {
    return this.ctx.fresh('SyncFlow', this.ctx.flows.get(job.metadata.namespace, job.spec.flowRef.name));
  }

  private siblings(job: SyncJob): SyncJob[] {
    return this.ctx.syncJobs
      .list((j) => j.metadata.namespace === job.metadata.namespace && j.spec.flowRef.name === job.spec.flowRef.name && j.metadata.name !== job.metadata.name)
      .map((j) => this.ctx.fresh('SyncJob', j)!);
  }

  private async setPhase(job: SyncJob, phase: string, reason: string, shown: string, extra: Partial<SyncJobStatus> = {}): Promise<SyncJob> {
    const now = this.ctx.now();
    const message = redactSecrets(shown);
    return this.ctx.patchStatus('SyncJob', job, {
      phase,
      message: message.slice(0, 4096),
      observedGeneration: job.metadata.generation,
      conditions: conditionsFor(job, phase, reason, message, now),
      ...extra,
    });
  }

  private async fail(job: SyncJob, reason: string, message: string, extra: Partial<SyncJobStatus> = {}): Promise<Result> {
    const now = this.ctx.now();
    const updated = await this.setPhase(job, 'Failed', reason, message, { completedAt: time(now), ...extra });
    this.ctx.event(job, 'Warning', reason, message);
    return this.finishUp(updated, reason);
  }

  /** Pending/Queued -> Rejected, Queued or Scheduled, one flow at a time. */
  private async admit(job: SyncJob): Promise<Result> {
    const flow = this.flowOf(job);
    if (!flow) {
      const message = `SyncFlow "${job.spec.flowRef.name}" not found`;
      if (job.status?.message !== message) await this.setPhase(job, 'Pending', 'FlowNotFound', message);
      return { requeueAfterMs: PENDING_RECHECK_MS };
    }
    const errors = [
      ...checkManifestSchema(structuredClone({ apiVersion: job.apiVersion, kind: job.kind, metadata: { name: job.metadata.name }, spec: job.spec })),
      ...validateSyncJob(job, [flow]),
    ];
    if (errors.length > 0) return this.fail(job, 'InvalidSpec', errors.map((e) => `${e.path}: ${e.message}`).join('; '));
    if (isConditionTrue(flow.status?.conditions, 'Stalled')) {
      return this.fail(job, 'InvalidFlow', `SyncFlow ${flow.metadata.name} is invalid: ${flow.status?.conditions?.find((c) => c.type === 'Stalled')?.message ?? ''}`);
    }

    const siblings = this.siblings(job);
    const decision = decideAdmission(job, siblings, flow.spec.concurrencyPolicy ?? 'Forbid');
    if (decision.action === 'reject') {
      const updated = await this.setPhase(job, 'Rejected', 'ConcurrencyForbidden', decision.message, { completedAt: time(this.ctx.now()) });
      this.ctx.event(job, 'Warning', 'Rejected', decision.message);
      this.ctx.enqueue('SyncFlow', job.metadata.namespace!, flow.metadata.name);
      return this.finishUp(updated);
    }
    if (decision.action === 'queue') {
      if (job.status?.phase !== 'Queued' || job.status.message !== decision.message) {
        await this.setPhase(job, 'Queued', 'Queued', decision.message);
        if (job.status?.phase !== 'Queued') this.ctx.event(job, 'Normal', 'Queued', decision.message);
      }
      return { requeueAfterMs: PENDING_RECHECK_MS };
    }
    if (decision.action === 'replace') {
      for (const victim of decision.victims) await this.cancel(victim, `replaced by SyncJob ${job.metadata.name} (concurrencyPolicy Replace)`);
    }
    return this.schedule(job, flow);
  }

  /** Stops an active SyncJob: deletes its Job (the pod gets SIGTERM) and marks it Failed/Replaced. */
  private async cancel(victim: SyncJob, message: string): Promise<void> {
    // Status first: once the Job is gone, a reconcile of the victim must already see it finished.
    const updated = await this.setPhase(victim, 'Failed', 'Replaced', message, { completedAt: time(this.ctx.now()) });
    await this.ctx.kube.deleteJob(victim.metadata.namespace!, victim.status?.jobRef?.name ?? jobNameFor(victim));
    this.ctx.event(victim, 'Warning', 'Replaced', message);
    this.ctx.enqueue('SyncJob', updated.metadata.namespace!, updated.metadata.name);
  }

  private async estimate(job: SyncJob, flow: SyncFlow): Promise<SyncJobStatus['estimate'] | undefined> {
    const flowId = flowIdOf(job.metadata.namespace!, flow.metadata.name);
    try {
      let pending: Record<string, number> | undefined;
      if (job.spec.mode === 'Incremental' && flow.spec.entities.length > 0) pending = await this.pendingRows(flowId, flow).catch(() => undefined);
      const estimate = await this.ctx.runs.estimate(flowId, job.spec.mode, pending);
      return estimate ? { seconds: estimate.seconds, basis: estimate.basis.slice(0, 1024) } : undefined;
    } catch (error) {
      this.ctx.logger.debug({ err: String(error) }, 'no estimate');
      return undefined;
    }
  }

  /** Rows past the watermarks, counted on the source: needs the source Secret, which the controller may read. */
  private async pendingRows(flowId: string, flow: SyncFlow): Promise<Record<string, number>> {
    const database = databaseOf(flow.spec.source, 'source');
    // countPendingRows speaks Postgres only; other sources are estimated from past runs alone.
    if (database?.kind !== 'postgres') throw new Error('pending rows are counted on Postgres sources only');
    const secret = await this.ctx.kube.readSecret(flow.metadata.namespace!, database.secretRef.name);
    const url = secret[database.secretRef.key];
    if (!url) throw new Error('no source url');
    const source = new pg.Client({ connectionString: url, statement_timeout: 5000 } as pg.ClientConfig);
    source.on('error', () => {});
    await source.connect();
    const state = await this.ctx.runs.pool.connect();
    try {
      return await countPendingRows(source, state, flowId, flow.spec);
    } finally {
      state.release();
      await source.end().catch(() => {});
    }
  }

  private async schedule(job: SyncJob, flow: SyncFlow): Promise<Result> {
    const namespace = job.metadata.namespace!;
    const wanted = exportTargetNames(flow);
    const exportTargets = this.ctx.targets.list((t) => t.metadata.namespace === namespace && wanted.includes(t.metadata.name));
    const k8sJob = buildJob({ syncJob: job, flow, exportTargets, config: this.ctx.config });
    // The pod runs the spec admitted here, even when the flow is edited before it starts.
    const flowGeneration = job.status?.flowGeneration ?? { admitted: flow.metadata.generation ?? 0 };
    await recordAdmittedFlow(this.ctx.runs.pool, { syncJobUid: job.metadata.uid!, flow: flowIdOf(namespace, flow.metadata.name), generation: flowGeneration.admitted, spec: flow.spec });
    try {
      await this.ctx.ensureStateCredentials(namespace);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return this.fail(job, 'StateCredentials', error.message);
    }
    try {
      await this.ctx.kube.batch.createNamespacedJob({ namespace, body: k8sJob });
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
    }
    const estimate = await this.estimate(job, flow);
    const message = `Job ${k8sJob.metadata!.name} created${estimate ? `; estimated ${formatDuration(estimate.seconds * 1000)} (${estimate.basis})` : ''}`;
    await this.setPhase(job, 'Scheduled', 'JobCreated', message, {
      jobRef: { name: k8sJob.metadata!.name! },
      flowGeneration,
      ...(estimate ? { estimate } : {}),
    });
    this.ctx.event(job, 'Normal', 'Scheduled', message);
    this.ctx.enqueue('SyncFlow', namespace, flow.metadata.name);
    return { requeueAfterMs: PROGRESS_INTERVAL_MS };
  }

  /** Scheduled/Running: follow the Job and the run's heartbeat, mirror progress, detect the end. */
  private async track(job: SyncJob): Promise<Result> {
    const namespace = job.metadata.namespace!;
    const jobName = job.status?.jobRef?.name ?? jobNameFor(job);
    const k8sJob = this.ctx.jobs.get(namespace, jobName);
    const flowId = flowIdOf(namespace, job.spec.flowRef.name);
    const run = await this.ctx.runs.latestRun(flowId, runIdPrefix(job));

    const complete = jobCondition(k8sJob, 'Complete');
    const failed = jobCondition(k8sJob, 'Failed');
    if (complete) return this.complete(job, run, k8sJob!);
    if (failed) {
      const reason = failed.reason === 'DeadlineExceeded' ? 'DeadlineExceeded' : run?.status === 'LockHeld' ? 'LockHeld' : run?.status === 'Failed' ? 'EngineError' : (failed.reason ?? 'BackoffLimitExceeded');
      const message = reason === 'EngineError' || reason === 'LockHeld' ? (run?.error ?? failed.message ?? reason) : (failed.message ?? reason);
      return this.finishRun(job, 'Failed', reason, message, run, k8sJob!);
    }
    if (!k8sJob && this.ctx.jobs.hasSynced) {
      // Lost (deleted by hand or never created): recreate it; the builder is deterministic.
      const flow = this.flowOf(job);
      if (!flow) return this.fail(job, 'FlowNotFound', `SyncFlow "${job.spec.flowRef.name}" was deleted`);
      if (job.status?.phase === 'Scheduled') return this.schedule(job, flow);
      return this.fail(job, 'JobDeleted', `Job ${jobName} was deleted while the run was in progress`);
    }
    if (run && (run.status === 'Running' || job.status?.phase === 'Scheduled')) {
      const entities = summaryOf(await this.ctx.runs.progress(run.id));
      const startedAt = time(run.startedAt);
      const status: Partial<SyncJobStatus> = { runId: run.id, startedAt, summary: { ...(job.status?.summary ?? {}), entities } };
      const changed = job.status?.phase !== 'Running' || JSON.stringify(job.status?.summary?.entities ?? []) !== JSON.stringify(entities) || job.status?.runId !== run.id;
      if (changed) {
        const message = `running since ${startedAt}${run.heartbeatAt ? `; last heartbeat ${time(run.heartbeatAt)}` : ''}`;
        await this.setPhase(job, 'Running', 'Running', message, status);
        if (job.status?.phase !== 'Running') this.ctx.event(job, 'Normal', 'Running', `run ${run.id} started`);
      }
    }
    return { requeueAfterMs: PROGRESS_INTERVAL_MS };
  }

  private async complete(job: SyncJob, run: RunRow | undefined, k8sJob: JobObject): Promise<Result> {
    if (run?.status === 'Failed') return this.finishRun(job, 'Failed', 'EngineError', run.error ?? 'the run failed', run, k8sJob);
    return this.finishRun(job, 'Succeeded', 'Succeeded', 'sync completed', run, k8sJob);
  }

  private async finishRun(job: SyncJob, phase: 'Succeeded' | 'Failed', reason: string, message: string, run: RunRow | undefined, k8sJob: JobObject): Promise<Result> {
    const now = this.ctx.now();
    const report = run?.report;
    const startedAt = run ? run.startedAt : k8sJob.status?.startTime ? new Date(k8sJob.status.startTime) : undefined;
    const completedAt = run?.completedAt ?? (k8sJob.status?.completionTime ? new Date(k8sJob.status.completionTime) : now);
    const totals = report?.totals;
    const flowGeneration = await this.ranGeneration(job);
    const reimported = phase === 'Succeeded' ? reimportSentence(job.spec) : undefined;
    const text =
      (phase === 'Succeeded' && totals
        ? `read ${totals.read}, created ${totals.created}, updated ${totals.updated}, archived ${totals.archived}, deleted ${totals.deleted}, rejected ${totals.rejected}`
        : message) +
      (reimported ? `; ${reimported}` : '') +
      generationNote(flowGeneration, this.flowOf(job)?.metadata.generation);
    const transfers = transfersOf(report);
    const entities = report ? summaryOf(report.entities) : run ? summaryOf(await this.ctx.runs.progress(run.id)) : undefined;
    const updated = await this.setPhase(job, phase, reason, text, {
      ...(run ? { runId: run.id, reportRef: { runId: run.id } } : {}),
      ...(startedAt ? { startedAt: time(startedAt) } : {}),
      completedAt: time(completedAt),
      ...(flowGeneration ? { flowGeneration } : {}),
      ...(startedAt ? { duration: formatDuration(completedAt.getTime() - startedAt.getTime()) } : {}),
      ...(entities || transfers ? { summary: { ...(entities ? { entities } : {}), ...(transfers ? { transfers } : {}) } } : {}),
    });
    this.ctx.event(job, phase === 'Succeeded' ? 'Normal' : 'Warning', reason, text);
    // Export flows: the targets mirror their last transfer.
    for (const ref of this.flowOf(job)?.spec.target.export?.targets ?? []) this.ctx.enqueue('ExportTarget', job.metadata.namespace!, ref.name);
    const labels = { namespace: job.metadata.namespace!, flow: job.spec.flowRef.name, mode: job.spec.mode };
    this.ctx.metrics.runs.inc({ ...labels, result: phase === 'Succeeded' ? 'Succeeded' : reason });
    if (startedAt) this.ctx.metrics.runSeconds.observe(labels, (completedAt.getTime() - startedAt.getTime()) / 1000);
    if (totals) {
      for (const outcome of ['read', 'created', 'updated', 'unchanged', 'archived', 'deleted', 'rejected'] as const) {
        if (totals[outcome]) this.ctx.metrics.records.inc({ namespace: labels.namespace, flow: labels.flow, outcome }, totals[outcome]);
      }
    }
    return this.finishUp(updated, reason);
  }

  /** The generations this SyncJob was admitted with (its status) and ran (recorded by its pod). */
  private async ranGeneration(job: SyncJob): Promise<SyncJobStatus['flowGeneration']> {
    const admitted = job.status?.flowGeneration?.admitted;
    if (admitted === undefined) return undefined;
    const recorded = await flowGenerations(this.ctx.runs.pool, job.metadata.uid!).catch(() => undefined);
    return { admitted, ...(recorded?.ran !== undefined ? { ran: recorded.ran } : {}) };
  }

  /** Terminal: the report ConfigMap and the e-mail, each once; then let the flow update history and the queue. */
  private async finishUp(job: SyncJob, reason?: string): Promise<Result> {
    const namespace = job.metadata.namespace!;
    const flowName = job.spec.flowRef.name;
    this.ctx.enqueue('SyncFlow', namespace, flowName);
    if (job.status?.phase === 'Rejected') return;
    const needsReport = Boolean(job.status?.runId) && !job.status?.reportRef?.configMap;
    const needsNotification = !job.status?.notification || job.status.notification.state === 'Retrying';
    if (!needsReport && !needsNotification) return;
    const run = job.status?.runId ? await this.ctx.runs.latestRun(flowIdOf(namespace, flowName), runIdPrefix(job)) : undefined;
    if (run?.report && needsReport) {
      await this.writeReportConfigMap(job, run.report);
      job = await this.ctx.patchStatus('SyncJob', job, { reportRef: { runId: run.id, configMap: `${job.metadata.name}-report` } });
    }
    if (needsNotification) return this.notify(job, run?.report, reason);
  }

  private async writeReportConfigMap(job: SyncJob, report: RunReport): Promise<void> {
    const namespace = job.metadata.namespace!;
    const { json, text } = boundedReport(report);
    const body: V1ConfigMap = {
      metadata: {
        name: `${job.metadata.name}-report`,
        namespace,
        labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_FLOW]: labelValue(job.spec.flowRef.name), [LABEL_SYNCJOB]: labelValue(job.metadata.name) },
        ownerReferences: [{ apiVersion: job.apiVersion, kind: 'SyncJob', name: job.metadata.name, uid: job.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      data: { 'report.json': json, 'report.txt': text },
    };
    try {
      await this.ctx.kube.core.createNamespacedConfigMap({ namespace, body });
    } catch (error) {
      if (!isStatus(error, 409)) throw error;
      await this.ctx.kube.core.replaceNamespacedConfigMap({ namespace, name: body.metadata!.name!, body });
    }
  }

  private async notify(job: SyncJob, report: RunReport | undefined, reason?: string): Promise<Result> {
    const flow = this.flowOf(job);
    const notifications = flow?.spec.notifications;
    const succeeded = job.status?.phase === 'Succeeded';
    const wanted = succeeded ? notifications?.onSuccess !== false : notifications?.onFailure !== false;
    const recipients = [...new Set([...(job.spec.requestedBy ? [job.spec.requestedBy] : []), ...(notifications?.adminEmails ?? [])])];
    const skip = async (message: string) => {
      await this.ctx.patchStatus('SyncJob', job, { notification: { state: 'Skipped', message } });
    };
    if (!wanted) return skip(`notifications.${succeeded ? 'onSuccess' : 'onFailure'} is false`);
    if (recipients.length === 0) return skip('no recipients (spec.requestedBy, notifications.adminEmails)');
    const namespace = job.metadata.namespace!;
    const flowSmtp = notifications?.smtpSecretRef;
    const smtpRef = flowSmtp ? { namespace, name: flowSmtp.name } : this.ctx.config.defaultSmtpSecret;
    if (!smtpRef) return skip('no SMTP settings (notifications.smtpSecretRef, or the controller default --smtp-secret)');

    const attempts = (job.status?.notification?.attempts ?? 0) + 1;
    try {
      const secret = await this.ctx.kube.readSecret(smtpRef.namespace, smtpRef.name);
      const smtp = smtpSettingsFromSecret(secret, smtpRef.name);
      const failedReason = job.status?.conditions?.find((c) => c.type === 'Ready')?.reason;
      const content = renderReportEmail({
        namespace,
        flow: job.spec.flowRef.name,
        syncJob: job.metadata.name,
        mode: job.spec.mode,
        phase: job.status?.phase ?? 'Unknown',
        reason: succeeded ? undefined : (reason ?? failedReason),
        message: job.status?.message,
        requestedBy: job.spec.requestedBy,
        report,
        secrets: Object.values(secret).filter((v) => v !== smtp.from && v !== smtp.host),
        ...(this.ctx.config.consoleUrl ? { consoleUrl: this.ctx.config.consoleUrl } : {}),
      });
      await sendEmail(smtp, recipients, content, job.metadata.uid ?? job.metadata.name);
      await this.ctx.patchStatus('SyncJob', job, { notification: { state: 'Sent', recipients, attempts, sentAt: time(this.ctx.now()) } });
      this.ctx.event(job, 'Normal', 'ReportSent', `report e-mailed to ${recipients.join(', ')}`);
    } catch (error) {
      const message = redactSecrets(errorMessage(error)).slice(0, 1024);
      const giveUp = attempts >= MAX_EMAIL_ATTEMPTS;
      await this.ctx.patchStatus('SyncJob', job, { notification: { state: giveUp ? 'Failed' : 'Retrying', recipients, attempts, message } });
      if (giveUp) {
        this.ctx.event(job, 'Warning', 'ReportNotSent', message);
        return;
      }
      return { requeueAfterMs: Math.min(5000 * 2 ** (attempts - 1), 300_000) };
    }
  }
}

export { byAge, isActive, isFinished };
