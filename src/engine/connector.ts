/**
 * The seam between the sync core and the systems it syncs. The engine plans, matches, diffs and
 * decides; a connector (src/connectors/<kind>/) reads, writes and hashes. The engine never imports
 * a driver and never builds a system's query language: it hands connectors a neutral plan
 * (EntityPlan: columns, conditions as a small expression tree, transforms by name, cursors as
 * opaque text) and each connector compiles it.
 *
 * Values cross the seam as text (`Row`): each reader returns its system's natural text form
 * (PostgreSQL's output format for PostgreSQL), and each writer accepts every common form for its
 * column types: booleans `t`/`f`/`true`/`false`/`1`/`0`, timestamps with or without a UTC offset
 * (none means UTC), `YYYY-MM-DD` dates, JSON text, binary as `\x` + hex. A value the column cannot
 * hold is rejected with a reason naming the column. Hashes are opaque: the engine only compares a
 * side's hash with an earlier hash of the same side, computed by the same connector.
 */
import type { Logger } from 'pino';
import type { ConditionOperator, Normalization, Transform } from '../api/entity.js';
import type { ClosureGraph } from './closure-plan.js';
import type { ClosureSource } from './closure.js';
import type { EntityPlan, FieldPlan } from './plan.js';

/** A row as text; `null` is a missing value. */
export type Row = (string | null)[];

/** Where an Incremental read resumes: the `(updatedAt, key)` of the last row applied. */
export interface Watermark {
  cursor: string;
  key: string[];
}

/** What a connector can do; the engine adapts to what it lacks instead of assuming PostgreSQL. */
export interface ConnectorCapabilities {
  /**
   * Scans (`TableReader.scan`, `TableWriter.streamHashes`, `SideReader.streamHashes`) come back in
   * the engine's key order (`compareKeys` over encoded keys), so a Full run merge-joins them with
   * the pairs as they stream. Without it the engine stages them in the state DB and joins there
   * (engine/key-join.ts). Incremental reads do not depend on it: `changedSince` is always in
   * tie-safe `(cursor, key)` order.
   */
  orderedScan: boolean;
  /** Units of work can be rolled back, also to a savepoint: dry runs and bad-row bisection need it. */
  transactions: boolean;
  /** Two sessions can read one consistent snapshot (a Full run's scan and its fetch by key). */
  sharedSnapshot: boolean;
  /**
   * Where new keys come from when none is mapped: `drawn` before the write (a sequence), or
   * `returned` by the insert itself (AUTO_INCREMENT read back row by row).
   */
  generatedKeys: 'drawn' | 'returned';
  /** How `--watch` learns of changes: pushed notifications, or polling the cursor. */
  changeFeed: 'notify' | 'poll';
  /**
   * A deleted record cannot be written back under its old key (an API gives every new record its
   * own): a Full run that finds a paired target record gone forgets the pair, so the record is
   * matched or created again, and `write` re-creates a record whose update found it gone.
   */
  newKeyOnRecreate?: boolean;
  /**
   * A create is applied as it is sent and cannot be rolled back (an API): the engine records an
   * intent with an idempotency key in the state DB and commits it before `insertReturningKeys`, and
   * clears it with the new pair. A record whose intent is still open when it is created again may
   * already exist; the writer finds it (by the key or its match fields) before creating it.
   */
  createIntents?: boolean;
  /**
   * The system is only ever read (partner files). Its sessions' `writer` refuses, and a two-way flow
   * builds no TableWriter for its side, so no write can reach it; decisions never plan one.
   */
  readOnly?: boolean;
  /**
   * The system can tell, after the fact, whether a write transaction committed, by a token taken
   * inside it (`Session.beginTracked`, `Session.transactionOutcome`; PostgreSQL's transaction id).
   * A run interrupted before its target commit recovers by it: a transaction that aborted wrote no
   * row, whatever sits now under the keys it had drawn (an application's row under a key handed out
   * again). Without it (MariaDB/MySQL keep no record of a finished transaction) the recovery
   * compares the rows under those keys with what Ferry wrote, as it does when the outcome is unknown.
   */
  transactionOutcome?: boolean;
}

/**
 * What became of a tracked write transaction: `unknown` when the system no longer knows (too old,
 * or the token is not one it handed out since its last restart).
 */
export type TransactionOutcome = 'committed' | 'aborted' | 'in progress' | 'unknown';

/**
 * Whether a side's new rows take keys drawn before the write (a sequence): a generated key on a
 * connector that draws. A server killed before the commit can hand such a key out again.
 */
export function drawsKeys(keyMode: 'generated' | 'mapped', capabilities: Pick<ConnectorCapabilities, 'generatedKeys'>): boolean {
  return keyMode === 'generated' && capabilities.generatedKeys === 'drawn';
}

export interface ColumnInfo {
  name: string;
  /** The column's declared type in the system's own words, e.g. `character varying(120)`, `datetime(3)`. */
  sqlType: string;
  /** Base type name in lower case, e.g. `int8`, `varchar`, `bigint`, `datetime`. */
  typeName: string;
  notNull: boolean;
  /** True when the system fills the column on insert (sequence, identity, AUTO_INCREMENT, expression default). */
  generated: boolean;
  /** The system's default expression, opaque to the engine (connectors use it to draw keys). */
  defaultExpr: string | null;
  /** PostgreSQL identity kind (`a` always, `d` by default); '' elsewhere. */
  identity: '' | 'a' | 'd';
}

export interface TableInfo {
  /** The PostgreSQL schema or MySQL database the table lives in. */
  schema: string;
  table: string;
  columns: Map<string, ColumnInfo>;
  /** Why this table cannot do what the run needs, e.g. a MyISAM table cannot roll back. */
  limitations?: string[];
}

/**
 * The intent behind one create (capability `createIntents`): the idempotency key recorded before the
 * create, and whether an earlier attempt recorded it, so the record may exist already.
 */
export interface CreateIntent {
  idempotencyKey: string;
  reopened: boolean;
}

/** A row to create on a system that numbers rows itself, with its intent where the connector wants one. */
export type CreateRow = Omit<StageRow, 'key'> & { intent?: CreateIntent };

/** A created row's key and stored hash; `recovered` when an earlier attempt had created it already. */
export interface CreatedRow {
  key: string[];
  hash: string;
  recovered?: boolean;
}

/**
 * Keys drawn before the write (`TableWriter.allocateKeys`), in order: the parts of key `i` are the
 * `columns` values from `values[i * columns]` on. Flat, so the keys drawn for a batch (held while
 * they wait for it) are one array of values, not an array per key; `drawnKey` makes one key's parts.
 */
export interface DrawnKeyList {
  columns: number;
  values: string[];
}

/** The parts of drawn key `i`. */
export function drawnKey(keys: DrawnKeyList, i: number): string[] {
  const { columns, values } = keys;
  return columns === 1 ? [values[i]!] : values.slice(i * columns, (i + 1) * columns);
}

/**
 * Rows under keys just drawn, for `TableWriter.copyFresh`: row `i` is `keys[i]` with `values[i]`
 * (field values in `plan.fields` order). Side by side, so a batch makes no object per row for them.
 */
export interface FreshRows {
  keys: string[][];
  values: (string | null)[][];
}

/**
 * Fresh rows whose field values the writer has already turned into its own form (capability
 * `TableWriter.freshBatches`), before their keys are drawn: a batch waiting to be written holds
 * those bytes instead of the values. Row `position` is the one `add` returned it for.
 */
export interface FreshBatch {
  /**
   * Adds a row's field values (in `plan.fields` order), those of `values` from index `from` on (a
   * source row's values where they stand in it, not sliced out); returns its position in the batch.
   */
  add(values: readonly (string | null)[], from?: number): number;
  /** The values of the row at `position` again (for the row-by-row path after a failed copy). */
  values(position: number): (string | null)[];
}

/** One row for a target: its target key and its field values in `plan.fields` order. */
export interface StageRow {
  seq: number;
  key: string[];
  values: (string | null)[];
}

export interface RowRejection {
  seq: number;
  reason: string;
}

/**
 * Everything the engine does to one table it writes. Writes happen inside the session's open unit
 * of work; rows the table refuses are rejected alone, with a reason that names the column.
 */
export interface TableWriter {
  isEmpty(): Promise<boolean>;
  /** Draws `count` new keys before the write (capability `generatedKeys: 'drawn'`). */
  allocateKeys(count: number): Promise<DrawnKeyList>;
  /**
   * Inserts rows whose keys were just drawn (they cannot exist yet), the fast way. Returns the stored
   * hash of each row, in the order of `rows`, or `undefined` when any row failed and nothing was kept
   * (the caller then stages and writes row by row, which can reject single rows).
   */
  copyFresh(rows: FreshRows): Promise<string[] | undefined>;
  /**
   * Optional: a maker of `FreshBatch`es for `copyFreshBatch`, or undefined when this table has none
   * (asked once per pass, before the first row is read).
   */
  freshBatches?(): Promise<(() => FreshBatch) | undefined>;
  /**
   * As `copyFresh`, for the rows of a `FreshBatch` (from this writer's `freshBatches`): row `i` is the
   * batch's row `positions[i]` under key `i` of `keys` (flat: no array per row). Once it returned
   * hashes, the batch is the writer's again (it may be filled anew): the caller no longer uses it.
   */
  copyFreshBatch?(batch: FreshBatch, positions: number[], keys: DrawnKeyList): Promise<string[] | undefined>;
  /**
   * Inserts rows without keys and reads back the keys the system gave them (capability
   * `generatedKeys: 'returned'`); refused rows are rejected alone. Returns key and stored hash per seq.
   */
  insertReturningKeys(rows: CreateRow[], rejections: RowRejection[]): Promise<Map<number, CreatedRow>>;
  /** Loads rows into a typed stage; rows whose values the target columns cannot hold are rejected. */
  stageRows(rows: StageRow[], rejections: RowRejection[]): Promise<void>;
  /** The hash each staged row will have once stored. */
  expectedHashes(): Promise<Map<number, string>>;
  /**
   * Writes staged rows by key: `insert` for fresh keys (a clash is rejected), `upsert` skips unchanged rows.
   * With `recreated` (capability `newKeyOnRecreate`), an upserted row whose record is gone is found by
   * its match values or created again, and its new key and hash land there by seq; without it, rejected.
   */
  write(seqs: number[], rejections: RowRejection[], mode: 'insert' | 'upsert', recreated?: Map<number, { key: string[]; hash: string }>): Promise<void>;
  setArchived(keys: string[][], archived: boolean): Promise<void>;
  /** Deletes rows by key; a row that cannot go (still referenced) is rejected alone. */
  deleteRows(keys: string[][], reject: (key: string[], reason: string) => void): Promise<number>;
  /** Current hashes of the rows with these keys, by encoded key (missing rows are absent). */
  currentHashes(keys: string[][]): Promise<Map<string, string>>;
  /** Every row's key parts then hash (Full-mode drift check); in the engine's key order with `orderedScan`. */
  streamHashes(): AsyncIterable<Row>;
  /** Rows whose match columns, normalised, equal the candidates; first key per candidate (joined with U+0001). */
  findMatches(candidates: string[][]): Promise<Map<string, string[]>>;
}

/**
 * What the engine reads from a source table. Rows have the layout of `SOURCE_LAYOUT`:
 * `[...keys, cursor, hash, inScope ('t'|'f'), ...values, ...matchValues]` (values only when asked).
 */
export interface TableReader {
  /** All rows; in the engine's key order when the connector declares `orderedScan`, any order otherwise. */
  scan(withValues: boolean): AsyncIterable<Row>;
  /**
   * The rows of `scan`, in the same order and with the same effects, in arrays as the connector has
   * them at hand: one async step per array instead of per row (a large scan's cost is then its rows).
   */
  scanChunks?(withValues: boolean): AsyncIterable<Row[]>;
  /** Rows after the watermark in tie-safe `(cursor, key)` order. */
  changedSince(watermark: Watermark | undefined): AsyncIterable<Row>;
  /** Full rows for these keys (plain key parts), any order. */
  byKeys(keys: string[][]): AsyncIterable<Row>;
  /** The newest `(cursor, key)` of the table, the watermark a Full run re-sets. */
  newestCursor(): Promise<Watermark | undefined>;
  /** A cheap row count estimate (statistics, not a scan). */
  estimateRows(): Promise<number>;
  /** Rows past the watermark, counted up to `cap`. */
  countChangedSince(watermark: Watermark | undefined, cap: number): Promise<number>;
  /** Why an Incremental read costs more than the changes (an API with no server-side filter); the run's report says it. */
  readonly incrementalNote?: string;
  /**
   * True when the source holds changes rather than the whole table (delta files): a Full run then
   * reads it as Incremental, because a record absent from it is not gone.
   */
  readonly changesOnly?: boolean;
  /**
   * True when a scan gives each key at most once (the reader rejects a repeated key itself): with no
   * pairs yet, a Full run of an unordered source then writes rows as they come, without staging the
   * scan in the state DB to join it with pairs that do not exist.
   */
  readonly uniqueKeys?: boolean;
  /**
   * True when Incremental reads may return rows marked `asDeletion` (a delta file's deletion
   * marker): their records are gone, handled like rows a Full run finds vanished.
   */
  readonly marksDeletions?: boolean;
}

/**
 * One table of a two-way flow, read as a side: `reader` is the plan in which it is the source (its
 * conditions, its transforms towards the other side), `writer` the plan in which it is the target
 * (the columns Ferry writes there, hashed exactly as the table's writer hashes them), `mappings` the
 * field mappings in mapping order as seen from this side.
 */
export interface SideSpec {
  reader: EntityPlan;
  writer: EntityPlan;
  mappings: FieldPlan[];
}

/**
 * Reads a two-way side. Rows have the layout `SIDE_LAYOUT`: `[...keys, cursor, cursorEpochSeconds,
 * hash, inScope, archived, ...raw, ...out, ...match]`, where `raw` are the mapped columns as stored,
 * `out` the same with this side's transforms applied, flags `t`/`f`.
 */
export interface SideReader {
  rowsByKeys(keys: string[][]): Promise<Row[]>;
  /**
   * `[...keys, hash, archived]` of every row (`archived` as in `SIDE_LAYOUT`, so archiving alone is
   * seen by a Full run); in the engine's key order with `orderedScan`. A reader that leaves
   * `archived` out makes the engine compare hashes without it.
   */
  streamHashes(): AsyncIterable<Row>;
  /** Rows with a cursor after the watermark, in tie-safe `(cursor, key)` order. */
  changedSince(watermark: Watermark | undefined): AsyncIterable<Row>;
  newestCursor(): Promise<Watermark | undefined>;
}

/** One connection to a system. A session does one thing at a time; the engine opens several. */
export interface Session {
  readonly capabilities: ConnectorCapabilities;
  /** Tables' columns (absent tables are absent from the map). `namespace` is a schema or database; '' = the default. */
  readCatalog(namespace: string, tables: string[]): Promise<Map<string, TableInfo>>;

  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  savepoint(name: string): Promise<void>;
  rollbackToSavepoint(name: string): Promise<void>;
  releaseSavepoint(name: string): Promise<void>;

  /**
   * Capability `transactionOutcome`: begins a unit of work like `begin` (one round trip) and returns
   * the token by which `transactionOutcome` tells later, from any session, whether it committed.
   */
  beginTracked?(): Promise<string>;
  /** Capability `transactionOutcome`: what became of the transaction of a `beginTracked` token. */
  transactionOutcome?(token: string): Promise<TransactionOutcome>;

  /** Starts a read-only consistent snapshot; returns a token other sessions can join, when shared snapshots are supported. */
  beginSnapshot(): Promise<string | undefined>;
  /**
   * A dry run on a system without transactions (capability `transactions: false`): from now on the
   * session sends no write, answers writes as if they had succeeded (inventing keys for creates), so
   * the run reports exactly what it would do.
   */
  simulateWrites?(): void;
  /** Joins another session's snapshot (or starts its own when the token is undefined). */
  joinSnapshot(token: string | undefined): Promise<void>;
  endSnapshot(): Promise<void>;

  reader(plan: EntityPlan): TableReader;
  writer(plan: EntityPlan): TableWriter;
  sideReader(side: SideSpec): SideReader;
  /** Reads Record-mode closures (keys and lookup columns only). */
  closureSource(plans: Map<string, EntityPlan>, graph: ClosureGraph): ClosureSource;
  /** Reads many entities' rows by key in as few round trips as the system allows (Record mode). */
  prefetch(requests: { plan: EntityPlan; keys: string[][] }[]): Promise<Row[][]>;

  close(): Promise<void>;
}

/** Wakes `--watch` when a watched table changes (capability `changeFeed: 'notify'`). */
export interface ChangeFeed {
  /** Resolves at the next change (at once if one came since the last call), or after `timeoutMs`. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<'change' | 'timeout' | 'aborted'>;
  close(): Promise<void>;
}

/** A configured system: opens sessions. `what` names it in errors ("the target database"). */
export interface Connector {
  readonly kind: string;
  readonly what: string;
  /**
   * Which system this is, without credentials (`postgres://host:port/database`), so that two flows
   * writing the same target tables can be told apart from two flows writing different ones. Connectors
   * that cannot tell leave it out, and their flows are not compared.
   */
  readonly identity?: string;
  open(): Promise<Session>;
  /**
   * Listens for changes to these tables of `namespace` ('' = the default), or resolves undefined
   * when the system will not tell (no change triggers installed). Connectors without a feed leave
   * it out; either way `--watch` then polls the cursor every interval.
   */
  changeFeed?(namespace: string, tables: string[], logger?: Logger): Promise<ChangeFeed | undefined>;
  /**
   * Called once when a run has committed everything it wrote (not after a failed write, nor in a dry
   * run), while the run reads its end (category counts, watermarks) and before its sessions close: a
   * files source records the files it imported and moves them away. The run can still fail after it.
   */
  finishRun?(run: { runId: string }): Promise<void>;
  /**
   * Lines about the run as a whole for its report's notes (a files source: files it left out because
   * their names cannot be addressed). Read once, when the report is built, after the sessions closed.
   */
  runNotes?(): string[];
}

/** The columns of a source row, as every reader returns them. */
export const SOURCE_LAYOUT = {
  cursor: (plan: EntityPlan) => plan.source.keys.length,
  hash: (plan: EntityPlan) => plan.source.keys.length + 1,
  inScope: (plan: EntityPlan) => plan.source.keys.length + 2,
  firstValue: (plan: EntityPlan) => plan.source.keys.length + 3,
};

/** The transforms a field mapping may name; each connector compiles them. */
export type TransformName = Transform;

/** Match-key normalisations; connectors compile them, `normaliseValue` applies them in the engine. */
export type Normalisation = Normalization;

export function normaliseValue(value: string, mode: Normalisation): string {
  switch (mode) {
    case 'Lower':
      return value.toLowerCase();
    case 'Trim':
      return value.trim();
    case 'LowerTrim':
      return value.trim().toLowerCase();
    default:
      return value;
  }
}

/**
 * A source-side condition tree: the row is in scope when every clause holds (AND across fields,
 * OR across the values of one field). Values compare with the column's text form.
 */
export interface ConditionClause {
  field: string;
  operator: ConditionOperator;
  values: string[];
  /**
   * `Contains` on delimited text: the separator between items (each item trimmed). Without it the
   * column holds a list itself (a PostgreSQL array or a JSON array) and each connector reads it so.
   */
  separator?: string;
}

/**
 * A field's value map in the plan's direction (the reverse plan holds the inverse): pairs of
 * `[from, to]` compared with the value's text after the transform. A connector compiles it next to
 * the transform; an unmapped value is kept, made null, or (`Reject`) returned as `UNMAPPED_MARK` +
 * the value, so the engine rejects the row with a reason naming the value.
 */
export interface PlannedValueMap {
  pairs: [string, string][];
  unmapped: 'Keep' | 'Null' | 'Reject';
}

/** Prefix of a value a `Reject` value map did not list (validation keeps it out of map entries). */
export const UNMAPPED_MARK = '\u0001';

/** The value a `Reject` value map did not list, when `value` is one. */
export function unmappedValue(value: string | null): string | undefined {
  return value !== null && value.startsWith(UNMAPPED_MARK) ? value.slice(UNMAPPED_MARK.length) : undefined;
}

/** A value map applied to a value's text, exactly as the SQL connectors compile it; for connectors that map in memory (http, files). */
export function applyValueMap(value: string | null, map: PlannedValueMap | undefined): string | null {
  if (!map || value === null) return value;
  const pair = map.pairs.find(([from]) => from === value);
  if (pair) return pair[1];
  return map.unmapped === 'Null' ? null : map.unmapped === 'Reject' ? UNMAPPED_MARK + value : value;
}

/** Why a connector could not read one column of a row (bytes that are not text in the expected encoding), or the row as a whole (column ''). */
export interface RowProblem {
  column: string;
  reason: string;
}

const PROBLEM = Symbol('row problem');

/** Marks a row the connector could not read in full: the engine rejects it with the problem instead of syncing it. */
export function withProblem(row: Row, problem: RowProblem): Row {
  return Object.assign(row, { [PROBLEM]: problem });
}

const DELETION = Symbol('row deleted');

/** Marks a row that reports its record deleted at the source (only its key counts). */
export function asDeletion(row: Row): Row {
  return Object.assign(row, { [DELETION]: true });
}

/** Whether a connector marked the row as a deletion. */
export function isDeletion(row: Row): boolean {
  return (row as Row & { [DELETION]?: boolean })[DELETION] === true;
}

/** A problem as a rejection's reason: named by its column when it has one (a wrong number of fields or a repeated key has none). */
export function problemReason(problem: RowProblem): string {
  return problem.column ? `column ${problem.column}: ${problem.reason}` : problem.reason;
}

/** The problem a connector marked on a row, if any. */
export function rowProblem(row: Row): RowProblem | undefined {
  return (row as Row & { [PROBLEM]?: RowProblem })[PROBLEM];
}
