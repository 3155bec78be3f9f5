import type { PairCategory } from '../../api/syncflow.js';

export type SideName = 'source' | 'target';

export const otherSide = (side: SideName): SideName => (side === 'source' ? 'target' : 'source');

/** One row of one side, as the two-way engine sees it. Values are text, indexed by field mapping. */
export interface SideRow {
  /** Encoded key (engine/keys.ts). */
  key: string;
  keyParts: string[];
  /** The updatedAt column as text (watermarks) and as epoch seconds (comparisons). */
  cursor: string | null;
  modifiedAt: number | null;
  /** Hash of the mapped columns as stored on this side; the same expression Ferry's writer predicts. */
  hash: string;
  inScope: boolean;
  archived: boolean;
  /** This side's own column values, by mapping index. */
  raw: (string | null)[];
  /** Values for the other side (transform applied), by mapping index; lookups translated once enriched. */
  out: (string | null)[];
  match: (string | null)[];
  /** Why `out` cannot be written to the other side (a lookup without a pair), if so. */
  untranslatable?: string;
}

/** A pair row of the state DB, as the two-way engine uses it. */
export interface Pair {
  sourceKey: string;
  targetKey: string;
  sourceHash: string | null;
  targetHash: string | null;
  sourceCursor: string | null;
  targetCursor: string | null;
  lastOrigin: string;
  lastSyncedAt: Date;
  category: PairCategory;
  sourceGone: boolean;
  targetGone: boolean;
  /** A change held back by the loop-protection window waits until then. */
  heldUntil: Date | null;
}

/** Counts specific to two-way runs, per entity (the generic counters hold the totals). */
export interface TwoWayCounters {
  createdInSource: number;
  createdInTarget: number;
  updatedSource: number;
  updatedTarget: number;
  archivedSource: number;
  archivedTarget: number;
  deletedSource: number;
  deletedTarget: number;
  conflicts: number;
  /** Changes held back by the loop-protection window; applied once it has passed. */
  blocked: number;
  /** Held-back changes applied this run because their window had passed. */
  released: number;
  /** Rows read because their cursor moved, whose content is what Ferry itself last wrote. */
  echoes: number;
  /** Records on one side only that no action created or linked (category `new`). */
  unpaired: number;
  /** Changes of inactive (archived) pairs held back until the record is active again (seed 003). */
  heldInactive?: number;
}

export function emptyTwoWayCounters(): TwoWayCounters {
  return {
    createdInSource: 0,
    createdInTarget: 0,
    updatedSource: 0,
    updatedTarget: 0,
    archivedSource: 0,
    archivedTarget: 0,
    deletedSource: 0,
    deletedTarget: 0,
    conflicts: 0,
    blocked: 0,
    released: 0,
    echoes: 0,
    unpaired: 0,
    heldInactive: 0,
  };
}

export type CategoryCounts = Partial<Record<PairCategory, number>>;
