import type { Logger } from 'pino';
import type { EntityCounters, RunState } from '../../store/run-state.js';
import type { StateConnection } from '../../store/state-connection.js';
import type { Session } from '../connector.js';
import type { LookupTranslator } from '../lookups.js';
import type { StatisticsRefresh } from '../run/statistics-refresh.js';
import type { Transactions } from '../transactions.js';

/** The connections and run-wide services one lane of a run hands to each entity it syncs. */
export interface EntitySyncContext {
  flow: string;
  runId: string;
  batchSize: number;
  tx: Transactions;
  /** Streams the source scan. */
  source: Session;
  /** Fetches full rows by key in the same snapshot as `source`. */
  sourceFetch: Session;
  target: Session;
  /** Writes pairs, watermarks and counters. */
  state: StateConnection;
  /** Streams pairs while `state` writes. */
  stateStream: StateConnection;
  runState: RunState;
  lookups: LookupTranslator;
  logger: Logger;
  rejectSampleLimit: number;
  onProgress?: (entity: string, counters: EntityCounters) => void;
  /** Runs the end-of-pass refresh of the pairs' statistics beside the run; without it, a pass refreshes them before it ends. */
  statistics?: StatisticsRefresh;
  /** Why a referenced entity may have no synced row (e.g. it lies outside the run's scope), added to the rejection reason. */
  missingParentHint?: (entity: string, sourceKey: string) => string | undefined;
}

export interface RejectedSample {
  entity: string;
  key: string | null;
  reason: string;
}

export interface EntityResult {
  counters: EntityCounters;
  rejected: RejectedSample[];
  notes: string[];
  /** Creates an earlier attempt may have applied (lost answer, interrupted run), completed without a second record. */
  recoveredCreates?: number;
}
