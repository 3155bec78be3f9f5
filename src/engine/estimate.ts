import { recentRuns } from '../store/run-history.js';
import type { StateClient } from '../store/state-connection.js';
import type { SyncFlowSpec } from '../api/syncflow.js';

/** How long a run will probably take, and why Ferry thinks so. */
export interface RunEstimate {
  seconds: number;
  basis: string;
  /** Past runs the throughput came from. */
  samples: number;
}

export interface EstimateRequest {
  flowId: string;
  mode: string;
  /** Rows each entity will read, when known (e.g. rows past the watermark, from countPendingRows). */
  pendingRows?: Record<string, number>;
  /** Past runs to learn from (most recent first); default 10. */
  historyLimit?: number;
}

/** Below this many rows an entity's time is dominated by fixed costs; its throughput says little. */
const MIN_ROWS_FOR_THROUGHPUT = 20;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Estimates a run from this flow's history: per-entity milliseconds per row (pooled over recent
 * successful runs of the mode) times the rows the run will read, scaled by how entity time turned
 * into wall time in those runs (parallel lanes, fixed costs). Rows to read are the pending changes
 * when given, otherwise what recent runs of the mode read. Returns undefined without any history.
 */
export async function estimateRun(state: StateClient, request: EstimateRequest): Promise<RunEstimate | undefined> {
  const limit = request.historyLimit ?? 10;
  let runs = await recentRuns(state, request.flowId, [request.mode], limit);
  let borrowed = false;
  if (runs.length === 0) {
    // Throughput per row is much the same across Full, Incremental and Scope; borrow it.
    runs = await recentRuns(state, request.flowId, ['Full', 'Incremental', 'Scope'], limit);
    borrowed = true;
  }
  if (runs.length === 0) return undefined;

  const perEntity = new Map<string, { read: number; ms: number; runs: number; recentRead: number[] }>();
  for (const run of runs) {
    for (const e of run.entities) {
      const acc = perEntity.get(e.entity) ?? { read: 0, ms: 0, runs: 0, recentRead: [] };
      acc.read += e.read;
      acc.ms += e.durationMs;
      acc.runs++;
      acc.recentRead.push(e.read);
      perEntity.set(e.entity, acc);
    }
  }
  const ratios = runs
    .map((run) => ({ wall: run.durationMs, entity: run.entities.reduce((sum, e) => sum + e.durationMs, 0) }))
    .filter((r) => r.entity > 0)
    .map((r) => r.wall / r.entity);
  const wallPerEntityMs = ratios.length > 0 ? median(ratios) : 1;
  const fixedMs = median(runs.map((run) => (run.entities.length === 0 ? run.durationMs : 0)));

  let entityMs = 0;
  let rowsTotal = 0;
  const pendingKnown = request.pendingRows !== undefined;
  for (const [entity, acc] of perEntity) {
    const rows = request.pendingRows ? (request.pendingRows[entity] ?? 0) : median(acc.recentRead);
    rowsTotal += rows;
    if (acc.read >= MIN_ROWS_FOR_THROUGHPUT) entityMs += rows * (acc.ms / acc.read);
    else entityMs += acc.ms / acc.runs; // tiny tables: their usual time
  }
  const seconds = Math.max(1, Math.round((entityMs * wallPerEntityMs + fixedMs) / 1000));
  const source = borrowed ? `no ${request.mode} run yet; throughput of ${plural(runs.length, 'recent run')} (${[...new Set(runs.map((r) => r.mode))].join('/')})` : `throughput of the last ${plural(runs.length, `${request.mode} run`)}`;
  const rows = pendingKnown ? `${rowsTotal} rows pending past the watermarks` : `~${Math.round(rowsTotal)} rows, as recent runs read`;
  return { seconds, basis: `${source} × ${rows} across ${plural(perEntity.size, 'entity').replace('entitys', 'entities')}`, samples: runs.length };
}
