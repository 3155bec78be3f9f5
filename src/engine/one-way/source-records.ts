import type { NewPairs, NewPairSources, StoredPair } from '../../store/pairs.js';
import { drawnKey, problemReason, rowProblem, SOURCE_LAYOUT, unmappedValue, type DrawnKeyList, type FreshBatch, type Row } from '../connector.js';
import type { EntityPlan } from '../plan.js';
import type { EntityTally } from './tally.js';

/** A source row as the one-way pass sees it. */
export interface SourceRecord {
  key: string | undefined;
  keyParts: (string | null)[];
  cursor: string | null;
  hash: string;
  inScope: boolean;
  values?: (string | null)[];
  matchValues?: (string | null)[];
}

/** A source record with a usable (encoded) key. */
export type KeyedRecord = SourceRecord & { key: string };

export type WriteKind = 'new' | 'changed' | 'reappeared';

/** One source row on its way to the target. */
export interface WriteItem {
  record: SourceRecord;
  kind: WriteKind;
  pair?: StoredPair;
  /** Plain target key values, once known (from the pair, the mapping, a match or a fresh default). */
  targetKey?: string[];
  /** Linked to an existing target row by the match keys. */
  linked?: boolean;
  /** The target numbers new rows itself (AUTO_INCREMENT): the key comes back from the insert. */
  awaitsKey?: boolean;
  /** Its values went into its batch's FreshBatch (record.values is gone): its row there. */
  freshRow?: number;
}

export function parseSourceRow(plan: EntityPlan, row: Row): SourceRecord {
  const width = plan.source.keys.length;
  const keyParts = row.slice(0, width);
  const first = SOURCE_LAYOUT.firstValue(plan);
  const valueCount = plan.keyFields.length + plan.fields.length;
  const hasValues = row.length > first;
  return {
    key: plan.source.codec.encode(keyParts),
    keyParts,
    cursor: row[SOURCE_LAYOUT.cursor(plan)],
    hash: row[SOURCE_LAYOUT.hash(plan)]!,
    inScope: row[SOURCE_LAYOUT.inScope(plan)] === 't',
    values: hasValues ? row.slice(first, first + valueCount) : undefined,
    // None without match keys (readers take none as none): no empty array per row.
    matchValues: hasValues && plan.match.length > 0 ? row.slice(first + valueCount) : undefined,
  };
}

/** The row a record was parsed from (`parseSourceRow` reverses it): how a record is staged in the state DB. */
export function sourceRowOf(record: SourceRecord): Row {
  return [...record.keyParts, record.cursor, record.hash, record.inScope ? 't' : 'f', ...(record.values ?? []), ...(record.matchValues ?? [])];
}

/** Parses one row and counts it as read; a row with a null key part is rejected (undefined). */
export function readRecord(plan: EntityPlan, row: Row, tally: EntityTally): KeyedRecord | undefined {
  const record = parseSourceRow(plan, row);
  tally.counters.read++;
  if (record.key === undefined) {
    tally.reject(null, `key ${plan.source.keys.join(', ')} is null`);
    return undefined;
  }
  if (rejectedAsUnreadable(row, record.key, tally, plan)) return undefined;
  return record as KeyedRecord;
}

/**
 * A row of a Full scan that has pairs to compare with, as one object holding the row: its fields are
 * read from the row as they are asked for. Most such rows are unchanged, and all they need is their
 * key, cursor, hash and scope: no record with key parts sliced out of the row is made for them. A row
 * to write becomes a plain record first (`plain`): a write item's record may have its strings
 * replaced (ownRecordStrings), and then must not hold the row.
 */
export class ScannedRecord implements KeyedRecord {
  constructor(
    private readonly plan: EntityPlan,
    private readonly row: Row,
    readonly key: string,
  ) {}

  get keyParts(): (string | null)[] {
    return this.row.slice(0, this.plan.source.keys.length);
  }

  get cursor(): string | null {
    return this.row[SOURCE_LAYOUT.cursor(this.plan)]!;
  }

  get hash(): string {
    return this.row[SOURCE_LAYOUT.hash(this.plan)]!;
  }

  get inScope(): boolean {
    return this.row[SOURCE_LAYOUT.inScope(this.plan)] === 't';
  }

  /** As the plain record has them (made anew on each call). */
  get values(): (string | null)[] | undefined {
    return this.plain().values;
  }

  get matchValues(): (string | null)[] | undefined {
    return this.plain().matchValues;
  }

  /** The record `readRecord` makes of the row. */
  plain(): KeyedRecord {
    return parseSourceRow(this.plan, this.row) as KeyedRecord;
  }
}

/** As `readRecord`, for a Full scan that has pairs to compare with (see ScannedRecord). */
export function readScannedRecord(plan: EntityPlan, row: Row, tally: EntityTally): ScannedRecord | undefined {
  const key = usableKey(plan, row, tally);
  return key === undefined ? undefined : new ScannedRecord(plan, row, key);
}

/** Counts the row read; its encoded key, or undefined when the row is rejected (a null key part, a value it could not read). */
function usableKey(plan: EntityPlan, row: Row, tally: EntityTally): string | undefined {
  tally.counters.read++;
  // The codec reads the key parts, the row's first values.
  const key = plan.source.codec.encode(row);
  if (key === undefined) {
    tally.reject(null, `key ${plan.source.keys.join(', ')} is null`);
    return undefined;
  }
  return rejectedAsUnreadable(row, key, tally, plan) ? undefined : key;
}

/**
 * A row of the plain path of a first import (every row is new and its values go into a FreshBatch
 * as it is taken, see fresh-batches.ts) as one object that is its record and, once classified, its
 * write item too (`record` is itself). Nothing is sliced out of the row: its values stay where they
 * stand until `takeValues` hands them to the batch, with its pair's source fields (key, hash,
 * cursor) to the batch's NewPairSources (then the row is let go), and a one-part key's parts are
 * made only when asked for. Per row of a large import, that is one object instead of a record, a
 * write item, two arrays and a hash and a cursor string, and fewer of them outlive the young generation.
 */
export class FreshRecord implements KeyedRecord, WriteItem {
  freshRow: number | undefined = undefined;
  /** Only when a batch takes another way of writing and gets its values back (restoreValues). */
  values: (string | null)[] | undefined = undefined;
  /** The row until its values went into the batch; then the pair sources that hold its hash and cursor (at `pairRow`). */
  private held: Row | NewPairSources;
  private pairRow = -1;
  /** A one-part key's part, or the parts of a longer key (sliced: few keys have more than one). */
  private parts: string | null | (string | null)[];
  /**
   * Its target key: a drawn one as the list its batch drew (at `drawnAt`, see `takeDrawnKey`), so no
   * array per row waits through its batch's COPY; or the parts of a key set otherwise (an array).
   */
  private target: DrawnKeyList | string[] | undefined = undefined;
  private drawnAt = 0;
  // No pair, link, awaited key or match values: none on this path (a field less per row that waits for its write).

  constructor(
    plan: EntityPlan,
    row: Row,
    public key: string,
  ) {
    const width = plan.source.keys.length;
    this.held = row;
    this.parts = width === 1 ? row[0]! : row.slice(0, width);
  }

  /** The record of another row, as a new one would be (see FreshRecordPool). */
  reuse(plan: EntityPlan, row: Row, key: string): this {
    const width = plan.source.keys.length;
    this.key = key;
    this.held = row;
    this.parts = width === 1 ? row[0]! : row.slice(0, width);
    this.pairRow = -1;
    this.freshRow = undefined;
    this.values = undefined;
    this.target = undefined;
    this.drawnAt = 0;
    return this;
  }

  /** Lets go of what it points to (its batch's pair sources and drawn keys) while it waits in a pool. */
  released(): this {
    this.key = '';
    this.held = NO_ROW;
    this.parts = null;
    this.values = undefined;
    this.target = undefined;
    return this;
  }

  get kind(): WriteKind {
    return 'new';
  }

  /** WriteItem's target key: its drawn key's parts are made anew on each call (see `targetKeyPart`). */
  get targetKey(): string[] | undefined {
    const { target } = this;
    return target === undefined || Array.isArray(target) ? target : drawnKey(target, this.drawnAt);
  }

  set targetKey(key: string[] | undefined) {
    this.target = key;
  }

  get hasTargetKey(): boolean {
    return this.target !== undefined;
  }

  /** Takes drawn key `i` of `keys` as its target key. */
  takeDrawnKey(keys: DrawnKeyList, i: number): void {
    this.target = keys;
    this.drawnAt = i;
  }

  /** Part `c` of its target key (which it has, see `hasTargetKey`), without making the key's array. */
  targetKeyPart(c: number): string {
    const target = this.target!;
    return Array.isArray(target) ? target[c]! : target.values[this.drawnAt * target.columns + c]!;
  }

  /**
   * Its own record (WriteItem's `record`), a getter like `kind` and `inScope`: a field less per row
   * waiting for its write. Never replaced: only a key-only scan's items are (full-pass.ts
   * fetchValues), and a key-only scan has pairs, so it makes no FreshRecord.
   */
  get record(): SourceRecord {
    return this;
  }

  /** As the row says; a record taken into a batch (`takeValues`) was in scope, or `classify` would have skipped it. */
  get inScope(): boolean {
    const { held } = this;
    return Array.isArray(held) ? held[this.width + 2] === 't' : true;
  }

  get keyParts(): (string | null)[] {
    const { parts } = this;
    return Array.isArray(parts) ? parts : [parts];
  }

  get cursor(): string | null {
    const { held } = this;
    return Array.isArray(held) ? held[this.width]! : held.cursor(this.pairRow);
  }

  get hash(): string {
    const { held } = this;
    return Array.isArray(held) ? held[this.width + 1]! : held.hash(this.pairRow)!;
  }

  /** The key's width: where the row's cursor stands. */
  private get width(): number {
    const { parts } = this;
    return Array.isArray(parts) ? parts.length : 1;
  }

  /**
   * Adds the row's values (`plan.fields` order, no key fields: see freshBatchMaker) to `batch` and
   * its pair's source fields to `sources`, and lets the row go.
   */
  takeValues(plan: EntityPlan, batch: FreshBatch, sources: NewPairSources): void {
    const row = this.held as Row;
    this.freshRow = batch.add(row, SOURCE_LAYOUT.firstValue(plan));
    const width = this.width;
    this.pairRow = sources.add(this.key, row[width + 1]!, row[width]!);
    this.held = sources;
  }

  /** Adds its pair to `pairs` from its source fields' bytes; false while it still holds its row (then the caller adds it). */
  addPairTo(pairs: NewPairs, targetKey: string | readonly number[], targetHash: string | null): boolean {
    const { held } = this;
    if (Array.isArray(held)) return false;
    pairs.addFrom(held, this.pairRow, targetKey, targetHash);
    return true;
  }
}

const NO_ROW: Row = [];

/**
 * FreshRecords whose batch is written (its rows and pairs: `giveBack`), for the rows read next. A
 * first import's records wait through their batch's writes while the reader goes on, so records
 * made anew are copied by young collections, promoted, and collected by mark-compacts; reused ones
 * are old already and never garbage. Holds at most `limit` records (about the batches in flight).
 */
export class FreshRecordPool {
  private readonly spare: FreshRecord[] = [];

  constructor(private readonly limit: number) {}

  /** The record of a row, a spare one when there is one. */
  take(plan: EntityPlan, row: Row, key: string): FreshRecord {
    const spare = this.spare.pop();
    return spare ? spare.reuse(plan, row, key) : new FreshRecord(plan, row, key);
  }

  /** Takes back the FreshRecords among a written batch's items: nothing may use them after. */
  giveBack(items: readonly WriteItem[]): void {
    for (let i = 0; i < items.length && this.spare.length < this.limit; i++) {
      const item = items[i];
      if (item instanceof FreshRecord) this.spare.push(item.released());
    }
  }

  get size(): number {
    return this.spare.length;
  }
}

/** Whether the item has its target key (a FreshRecord's is not made to tell). */
export function hasTargetKey(item: WriteItem): boolean {
  return item instanceof FreshRecord ? item.hasTargetKey : item.targetKey !== undefined;
}

/** As `readRecord`, for the plain path of a first import (see FreshRecord), from `pool`'s spare records where it has some. */
export function readFreshRecord(plan: EntityPlan, row: Row, tally: EntityTally, pool?: FreshRecordPool): FreshRecord | undefined {
  const key = usableKey(plan, row, tally);
  if (key === undefined) return undefined;
  return pool ? pool.take(plan, row, key) : new FreshRecord(plan, row, key);
}

/**
 * Rejects a row the connector could not read in full (a value it could not decode), or with a value
 * its field's value map does not list (`unmapped: Reject`); true when it did.
 */
export function rejectedAsUnreadable(row: Row, key: string, tally: EntityTally, plan: EntityPlan): boolean {
  const problem = rowProblem(row);
  if (problem) tally.reject(key, problemReason(problem));
  else {
    const unmapped = unmappedField(plan, row);
    if (unmapped) tally.reject(key, unmapped);
    return unmapped !== undefined;
  }
  return true;
}

/** Per plan, the mapped fields (key fields then fields) whose value map rejects an unlisted value, with their place among the values. */
const rejectingFields = new WeakMap<EntityPlan, { index: number; source: string }[]>();

function rejectingFieldsOf(plan: EntityPlan): { index: number; source: string }[] {
  let fields = rejectingFields.get(plan);
  if (!fields) {
    fields = [...plan.keyFields, ...plan.fields].flatMap((f, index) => (f.valueMap?.unmapped === 'Reject' ? [{ index, source: f.source }] : []));
    rejectingFields.set(plan, fields);
  }
  return fields;
}

/** Why a row cannot go: a field whose value its value map does not list (rows with values only). */
export function unmappedField(plan: EntityPlan, row: Row): string | undefined {
  const first = SOURCE_LAYOUT.firstValue(plan);
  if (row.length <= first) return undefined;
  // Looked up once per plan: most plans reject no value, and this runs for every row.
  for (const { index, source } of rejectingFieldsOf(plan)) {
    const value = unmappedValue(row[first + index]);
    if (value !== undefined) return unmappedReason(source, value);
  }
  return undefined;
}

export const unmappedReason = (field: string, value: string) => `field ${field}: the value ${JSON.stringify(value)} is not in its value map`;

/** Rejects a source row whose key an earlier row already had (a source table without a primary key). */
export function rejectRepeatedKey(plan: EntityPlan, key: string, tally: EntityTally): void {
  tally.reject(key, `key ${plan.source.keys.join(', ')} appears more than once in the source`);
}

/** A batch's records with each key once (its first row); the repeats are rejected, as one batch cannot write a key twice. */
/** A source of changes (delta files): a later change of a key in the same batch supersedes the earlier ones. */
export function latestByKey(records: KeyedRecord[]): KeyedRecord[] {
  const last = new Map(records.map((record, i) => [record.key, i]));
  return records.filter((record, i) => last.get(record.key) === i);
}

export function distinctByKey(plan: EntityPlan, records: KeyedRecord[], tally: EntityTally): KeyedRecord[] {
  const seen = new Set<string>();
  return records.filter((record) => {
    if (!seen.has(record.key)) return seen.add(record.key);
    rejectRepeatedKey(plan, record.key, tally);
    return false;
  });
}
