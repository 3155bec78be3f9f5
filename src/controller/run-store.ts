import pg from 'pg';
import type { RunReport } from '../engine/report.js';
import { estimateRun, type RunEstimate } from '../engine/estimate.js';
import { PAIR_CATEGORIES, type PairCategory } from '../api/syncflow.js';
import { lastTransferTo, type LastTransfer } from '../store/export-transfers.js';
import { latestRunByIdPrefix, runProgress, type EntityProgress } from '../store/run-reads.js';
import { categoryCounts } from '../store/two-way-pairs.js';
import { issueNamespaceCredential, namespaceRoles, retireNamespaceRole, type NamespaceCredential } from '../store/tenant-roles.js';

export interface RunRow {
  id: string;
  status: string;
  startedAt: Date;
  completedAt?: Date;
  heartbeatAt?: Date;
  error?: string;
  report?: RunReport;
}

/** The controller's side of the state DB: runs by SyncJob, progress, estimates, pair categories, namespace credentials. */
export class RunStore {
  readonly pool: pg.Pool;

  constructor(url: string) {
    this.pool = new pg.Pool({ connectionString: url, max: 4, options: '-c TimeZone=UTC', application_name: 'ferry-controller' } as pg.PoolConfig);
    this.pool.on('error', () => {});
    // A checked-out client whose connection dies emits 'error', which without a listener crashes the
    // controller; its statement fails instead, and the reconcile that ran it is retried.
    this.pool.on('connect', (client) => client.on('error', () => {}));
  }

  /** The newest run whose id starts with the SyncJob's run-id prefix (each Job attempt adds a suffix). */
  async latestRun(flowId: string, runIdPrefix: string): Promise<RunRow | undefined> {
    const run = await latestRunByIdPrefix(this.pool, flowId, runIdPrefix);
    if (!run) return undefined;
    return {
      id: run.id,
      status: run.status,
      startedAt: run.startedAt,
      completedAt: run.completedAt ?? undefined,
      heartbeatAt: run.heartbeatAt ?? undefined,
      error: run.error ?? undefined,
      report: run.report ?? undefined,
    };
  }

  async progress(runId: string): Promise<EntityProgress[]> {
    return runProgress(this.pool, runId);
  }

  async estimate(flowId: string, mode: string, pendingRows?: Record<string, number>): Promise<RunEstimate | undefined> {
    const client = await this.pool.connect();
    try {
      return await estimateRun(client, { flowId, mode, pendingRows });
    } finally {
      client.release();
    }
  }

  /** How many pairs of the flow are in each category, over all its entities. */
  async categories(flowId: string): Promise<Partial<Record<PairCategory, number>>> {
    const out: Partial<Record<PairCategory, number>> = {};
    for (const counts of (await categoryCounts(this.pool, flowId)).values()) {
      for (const [category, n] of Object.entries(counts)) {
        if ((PAIR_CATEGORIES as readonly string[]).includes(category)) out[category as PairCategory] = (out[category as PairCategory] ?? 0) + n;
      }
    }
    return out;
  }

  /** The newest transfer to an ExportTarget (by name, from runs of flows in its namespace). */
  async lastTransfer(namespace: string, target: string): Promise<LastTransfer | undefined> {
    return lastTransferTo(this.pool, namespace, target);
  }

  /** A new password for the namespace's role (created the first time); the old one stops working. */
  async issueCredential(namespace: string, options: { endSessions?: boolean } = {}): Promise<NamespaceCredential> {
    return this.withClient((client) => issueNamespaceCredential(client, namespace, options));
  }

  /** Drops the namespace's role (its sessions ended); the role's name if it had one. */
  async retireCredential(namespace: string): Promise<string | undefined> {
    return this.withClient((client) => retireNamespaceRole(client, namespace));
  }

  async namespacesWithRoles(): Promise<string[]> {
    return (await namespaceRoles(this.pool)).map((r) => r.namespace);
  }

  private async withClient<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      return await work(client);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
