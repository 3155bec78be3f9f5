import type { StateClient } from '../../store/state-connection.js';
import { RunState, type EntityCounters } from '../../store/run-state.js';

/**
 * Saves entity progress to run_entities at most once a second per entity, on the otherwise idle
 * bookkeeping connection, one query at a time (saves are chained instead of piling up).
 */
export class ProgressSaver {
  private readonly lastSaved = new Map<string, number>();
  private saves: Promise<void> = Promise.resolve();
  private readonly runState: RunState;

  constructor(
    bookkeeping: StateClient,
    flowId: string,
    runId: string,
    private readonly positionOf: (entity: string) => number,
  ) {
    this.runState = new RunState(bookkeeping, flowId, runId);
  }

  save(entity: string, counters: EntityCounters): void {
    const now = Date.now();
    if (now - (this.lastSaved.get(entity) ?? 0) < 1000) return;
    this.lastSaved.set(entity, now);
    const snapshot = { ...counters };
    this.saves = this.saves.then(() => this.runState.saveCounters(entity, this.positionOf(entity), snapshot)).catch(() => {});
  }

  /** Resolves once every queued save has run. */
  settled(): Promise<void> {
    return this.saves;
  }
}
