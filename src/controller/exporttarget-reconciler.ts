import { createHash } from 'node:crypto';
import type { ExportTarget } from '../api/exporttarget.js';
import { validateExportTarget } from '../api/validate-export-target.js';
import { listFilesSource } from '../connectors/files/probe.js';
import { probeExportTarget, type ProbeResult } from '../export/probe.js';
import type { ExportSecrets } from '../export/secrets.js';
import type { ControllerContext } from './context.js';
import { exportTargetConditions, readyResult } from './exporttarget-conditions.js';
import { filesReadersHash, filesReadersOf, probeFilesReaders, type ReadersProbe } from './files-read-probe.js';
import { errorMessage } from './kube.js';
import { sourceListingStatus } from './source-listing.js';

type Result = { requeueAfterMs?: number } | void;

const DEFAULT_PROBE_INTERVAL_S = 600;

/**
 * Runs the connectivity probe on create, on spec change and every probeIntervalSeconds, and reports it
 * as Ready; the read probe of each files source reading through the target as FilesReadable.
 */
export class ExportTargetReconciler {
  /** uid -> {spec hash, time of the last probe}. */
  private readonly probed = new Map<string, { specHash: string; at: number }>();

  constructor(
    private readonly ctx: ControllerContext,
    private readonly probe: typeof probeExportTarget = probeExportTarget,
    private readonly readProbe: typeof listFilesSource = listFilesSource,
  ) {}

  async reconcile(namespace: string, name: string): Promise<Result> {
    const target = this.ctx.fresh('ExportTarget', this.ctx.targets.get(namespace, name));
    if (!target || target.metadata.deletionTimestamp) return;
    const now = this.ctx.now();
    const intervalMs = (target.spec.probeIntervalSeconds ?? DEFAULT_PROBE_INTERVAL_S) * 1000;
    const readers = filesReadersOf(target, this.ctx.flows.list());
    const specHash = createHash('sha256').update(JSON.stringify(target.spec)).update(filesReadersHash(readers)).digest('hex');
    const last = this.probed.get(target.metadata.uid ?? name);
    const generationSeen = target.status?.observedGeneration === target.metadata.generation;
    if (last && last.specHash === specHash && generationSeen && now.getTime() - last.at < intervalMs) {
      const lastTransfer = await this.lastTransfer(target);
      if (lastTransfer && lastTransfer.runId !== target.status?.lastTransfer?.runId) await this.ctx.patchStatus('ExportTarget', target, { lastTransfer });
      return { requeueAfterMs: intervalMs - (now.getTime() - last.at) };
    }

    const errors = validateExportTarget(target);
    let result: ProbeResult;
    let read: ProbeResult | undefined;
    let listings: ReadersProbe['listings'] = [];
    if (errors.length > 0) {
      result = { ready: false, reason: 'InvalidConfig', message: errors.map((e) => `${e.path}: ${e.message}`).join('; ') };
    } else {
      try {
        const secrets = await this.secretsFor(target);
        result = await this.probe(target.spec, secrets, name);
        const probed = await probeFilesReaders(target, readers, secrets, this.readProbe);
        if (probed) ({ listings, ...read } = probed);
      } catch (error) {
        result = { ready: false, reason: 'InvalidConfig', message: errorMessage(error) };
      }
    }
    this.probed.set(target.metadata.uid ?? name, { specHash, at: now.getTime() });
    await this.writeStatus(target, result, read, now);
    await this.writeListings(listings);
    return { requeueAfterMs: intervalMs };
  }

  /** Each reader's listing as its SyncFlow's status.sourceListing (names, sizes, times; no credentials), for `kubectl ferry files`. */
  private async writeListings(listings: ReadersProbe['listings']): Promise<void> {
    for (const { flow, listing } of listings) {
      try {
        await this.ctx.patchStatus('SyncFlow', flow, { sourceListing: sourceListingStatus(flow.spec, listing, listing.listedAt) });
      } catch (error) {
        // The flow may be gone since the probe; its next probe writes the listing again.
        this.ctx.logger.warn({ flow: flow.metadata.name, error: errorMessage(error) }, 'cannot write status.sourceListing');
      }
    }
  }

  /** The last transfer to this target, as status.lastTransfer (the state DB's export_transfers). */
  private async lastTransfer(target: ExportTarget): Promise<NonNullable<ExportTarget['status']>['lastTransfer']> {
    const transfer = await this.ctx.runs.lastTransfer(target.metadata.namespace!, target.metadata.name).catch(() => undefined);
    if (!transfer) return undefined;
    return {
      runId: transfer.runId.slice(0, 128),
      state: transfer.state.slice(0, 64),
      at: new Date(transfer.at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ...(transfer.bytes !== undefined ? { bytes: transfer.bytes } : {}),
      ...(transfer.message ? { message: transfer.message.slice(0, 1024) } : {}),
    };
  }

  private async secretsFor(target: ExportTarget): Promise<ExportSecrets> {
    const namespace = target.metadata.namespace!;
    const names = [target.spec.credentialsSecretRef.name, ...(target.spec.ftps?.caSecretRef ? [target.spec.ftps.caSecretRef.name] : [])];
    const secrets: ExportSecrets = {};
    for (const secretName of names) {
      try {
        secrets[secretName] = await this.ctx.kube.readSecret(namespace, secretName);
      } catch {
        // Missing Secret: the probe reports it as InvalidConfig naming the field.
      }
    }
    return secrets;
  }

  /** Ready: the write probe (a ReadOnly target: the listing and the read probes). FilesReadable (only while a SyncFlow's files source reads through the target): the read probes. */
  private async writeStatus(target: ExportTarget, probe: ProbeResult, read: ProbeResult | undefined, now: Date): Promise<void> {
    const generation = target.metadata.generation;
    const previous = target.status?.conditions?.find((c) => c.type === 'Ready');
    const previousRead = target.status?.conditions?.find((c) => c.type === 'FilesReadable');
    const result = readyResult(target, probe, read);
    const conditions = exportTargetConditions(target, result, read, now);
    const lastTransfer = await this.lastTransfer(target);
    await this.ctx.patchStatus('ExportTarget', target, { observedGeneration: generation, conditions, ...(lastTransfer ? { lastTransfer } : {}) });
    if (previous?.status !== (result.ready ? 'True' : 'False') || previous?.reason !== result.reason) {
      this.ctx.event(target, result.ready ? 'Normal' : 'Warning', result.reason, result.message.slice(0, 1024));
    }
    if (read && (previousRead?.status !== (read.ready ? 'True' : 'False') || previousRead?.reason !== read.reason)) {
      this.ctx.event(target, read.ready ? 'Normal' : 'Warning', read.ready ? 'FilesReadable' : read.reason, read.message.slice(0, 1024));
    }
  }
}
