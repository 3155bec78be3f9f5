import type { Pair } from '../engine/two-way/types.js';
import { copyIn } from '../util/copy-in.js';
import { CopyData } from '../util/copy-text.js';
import { copyOutRows, parseLine, type Row } from '../util/copy-out.js';
import { confirmScope, readScope, writeScope } from './pair-scopes.js';
import type { ScanStage } from './scan-stage.js';
import type { StateClient } from './state-connection.js';

/**
 * The source's fields first, the target's last: a new pair's source fields can be written as its row
 * is read (`NewPairSources`), its target key and stored hash once the row is written.
 */
const NEW_PAIR_COLUMNS = 'scope, source_key, source_hash, source_cursor, target_key, target_hash';

/** Whether ferry.pairs' row-level security applies to this session (superusers bypass it); asked once per connection. */
const rowSecurity = new WeakMap<object, Promise<boolean>>();
function rowSecurityApplies(client: StateClient): Promise<boolean> {
  let known = rowSecurity.get(client);
  if (!known) {
    known = client.query<{ on: boolean }>(`SELECT row_security_active('ferry.pairs') AS on`).then((r) => r.rows[0].on);
    rowSecurity.set(client, known);
  }
  return known;
}

/**
 * The column (or expression) behind each field of a pair. Lookups select `column AS "field"`, so a
 * result row already is the pair object: there is one mapping, and nothing to copy field by field.
 */
const PAIR_COLUMNS: Record<keyof Pair, string> = {
  sourceKey: 'source_key',
  targetKey: 'target_key',
  sourceHash: 'source_hash',
  targetHash: 'target_hash',
  sourceCursor: 'source_cursor',
  targetCursor: 'target_cursor',
  lastOrigin: 'last_origin',
  lastSyncedAt: 'last_synced_at',
  category: 'category',
  sourceGone: 'source_gone_at IS NOT NULL',
  targetGone: 'target_gone_at IS NOT NULL',
  heldUntil: 'held_until',
};

export const ALL_PAIR_FIELDS = Object.keys(PAIR_COLUMNS) as (keyof Pair)[];

/** What a one-way run needs of a pair to decide a write; its lookups read no more. */
const STORED_PAIR_FIELDS = ['sourceKey', 'targetKey', 'sourceHash', 'targetHash', 'sourceGone'] as const;
export type StoredPair = Pick<Pair, (typeof STORED_PAIR_FIELDS)[number]>;

/** A pair as a one-way run writes it. */
export type PairWrite = Pick<Pair, 'sourceKey' | 'targetKey' | 'sourceHash' | 'targetHash' | 'sourceCursor'>;

/**
 * New pairs of one flow and entity as COPY data for `PairStore.insertNewPairs`, built pair by pair:
 * a batch holds one buffer through its pairs transaction, not an object and an encoded key per row.
 */
export class NewPairs {
  /** Undefined once `insertNewPairs` has sent the pairs and handed the buffer on to a later batch. */
  private data: CopyData | undefined;
  /** The pairs added. */
  count = 0;

  /** `scope` of every line. */
  private readonly lead: string;

  /** `data`: a buffer to write into (cleared first, e.g. an earlier batch's, see `PairStore.newPairs`), or the bytes to start a new one with. */
  constructor(
    /** The flow entity's scope (pair-scopes.ts), confirmed in the transaction that loads the pairs. */
    readonly scope: number,
    data?: CopyData | number,
  ) {
    if (data instanceof CopyData) data.clear();
    this.data = data instanceof CopyData ? data : new CopyData(undefined, data);
    this.lead = String(scope);
  }

  private get open(): CopyData {
    if (!this.data) throw new Error('these new pairs were already written');
    return this.data;
  }

  /** `targetKey` encoded (engine/keys.ts), or the character codes of its encoding (`encodedIntegerCodes`: no string per key). */
  add(sourceKey: string, targetKey: string | readonly number[], sourceHash: string | null, targetHash: string | null, sourceCursor: string | null): void {
    const data = this.open;
    data.field(this.lead);
    data.field(sourceKey);
    data.field(sourceHash);
    data.field(sourceCursor);
    this.target(data, targetKey, targetHash);
  }

  /** As `add`, with the source's fields as `sources` holds them for its row `position` (copied as they are). */
  addFrom(sources: NewPairSources, position: number, targetKey: string | readonly number[], targetHash: string | null): void {
    const data = this.open;
    data.field(this.lead);
    sources.copyTo(data, position);
    this.target(data, targetKey, targetHash);
  }

  private target(data: CopyData, targetKey: string | readonly number[], targetHash: string | null): void {
    if (typeof targetKey === 'string') data.field(targetKey);
    else data.codesField(targetKey);
    data.field(targetHash, true);
    this.count++;
  }

  /** The COPY data of the pairs added (rows of `NEW_PAIR_COLUMNS`). */
  toBuffer(): Buffer {
    return this.open.toBuffer();
  }

  /** Gives up the buffer once its bytes were sent (`PairStore.insertNewPairs`): no pair can be added or read after. */
  release(): CopyData {
    const data = this.open;
    this.data = undefined;
    return data;
  }
}

/**
 * The source's fields of new pairs (source key, hash and cursor) as COPY text, written as each row is
 * read, for `NewPairs.addFrom` once the row's target key and stored hash are known. A row waiting
 * for its batch's writes then holds no hash or cursor string, which would outlive the young
 * generation's collections (a first import keeps a few batches in flight). Handed back to the
 * `PairStore` that made it (`release`) once its fields went into the pairs' data.
 */
export class NewPairSources {
  private readonly data: CopyData;
  /** Row `p`'s fields are bytes `ends[p - 1]` (0 for the first) to `ends[p]` of `data`, each followed by a tab. */
  private ends: Int32Array;
  private count = 0;
  private released = false;

  constructor(
    private readonly spares: NewPairSources[],
    size: number,
    rows: number,
  ) {
    this.data = new CopyData(undefined, size);
    this.ends = new Int32Array(rows);
  }

  /** Adds a row's source fields; returns its position. */
  add(sourceKey: string, sourceHash: string | null, sourceCursor: string | null): number {
    this.check();
    const position = this.count;
    if (position === this.ends.length) {
      const ends = new Int32Array(Math.max(16, 2 * position));
      ends.set(this.ends);
      this.ends = ends;
    }
    const data = this.data;
    data.field(sourceKey);
    data.field(sourceHash);
    data.field(sourceCursor);
    this.ends[position] = data.length;
    this.count++;
    return position;
  }

  /** Row `position`'s source hash, read back from its bytes. */
  hash(position: number): string | null {
    return this.fields(position)[1]!;
  }

  /** Row `position`'s source cursor, read back from its bytes. */
  cursor(position: number): string | null {
    return this.fields(position)[2]!;
  }

  /** Appends row `position`'s fields, each followed by a tab, to `target`. */
  copyTo(target: CopyData, position: number): void {
    this.check();
    target.raw(this.data.buffer, this.start(position), this.ends[position]!);
  }

  /** Hands the buffers back for the next batch's rows: nothing can be added or read after. */
  release(): void {
    this.check();
    this.released = true;
    this.spares.push(this);
  }

  /** Empties a released batch for new rows (`PairStore.newPairSources`). */
  reuse(): this {
    this.released = false;
    this.count = 0;
    this.data.clear();
    return this;
  }

  get size(): number {
    return this.data.length;
  }

  get rows(): number {
    return this.count;
  }

  private fields(position: number): Row {
    this.check();
    // The row's fields each followed by a tab: the last tab is not theirs.
    return parseLine(this.data.buffer.toString('utf8', this.start(position), this.ends[position]! - 1));
  }

  private start(position: number): number {
    return position === 0 ? 0 : this.ends[position - 1]!;
  }

  private check(): void {
    if (this.released) throw new Error('these new pairs\' source fields were already written');
  }
}

export type PairSide = 'source' | 'target';
const KEY_COLUMN: Record<PairSide, string> = { source: 'source_key', target: 'target_key' };
const KEY_FIELD = { source: 'sourceKey', target: 'targetKey' } as const;

export function selectPairFields(fields: readonly (keyof Pair)[]): string {
  return fields.map((field) => `${PAIR_COLUMNS[field]} AS "${field}"`).join(', ');
}

/**
 * The pairs of several entities' source keys in one query: a Record run reads its few dozen up
 * front. `PairStore.bySourceKeys` stays the per-entity path for large batches.
 */
export async function pairsBySourceKeys(client: StateClient, flow: string, keysByEntity: Map<string, string[]>): Promise<Map<string, Map<string, StoredPair>>> {
  const entities: string[] = [];
  const keys: string[] = [];
  for (const [entity, list] of keysByEntity) {
    for (const key of list) {
      entities.push(entity);
      keys.push(key);
    }
  }
  const out = new Map<string, Map<string, StoredPair>>([...keysByEntity.keys()].map((e) => [e, new Map()]));
  if (keys.length === 0) return out;
  const result = await client.query(
    `SELECT s.entity, ${selectPairFields(STORED_PAIR_FIELDS)}
       FROM unnest($2::text[], $3::text[]) AS k(entity, key)
       JOIN ferry.pair_scopes s ON s.flow = $1 AND s.entity = k.entity
       JOIN ferry.pairs p ON p.scope = s.id AND p.source_key = k.key`,
    [flow, entities, keys],
  );
  for (const { entity, ...pair } of result.rows) out.get(entity)!.set(pair.sourceKey, pair as StoredPair);
  return out;
}

/**
 * The pairs of one flow and entity, as a one-way run keeps them; TwoWayPairs (two-way-pairs.ts)
 * adds the columns and writes of two-way runs. Keys are encoded (engine/keys.ts).
 */
export class PairStore {
  constructor(
    protected readonly client: StateClient,
    readonly flow: string,
    readonly entity: string,
  ) {}

  /** The flow entity's scope for reads on `client` (NO_SCOPE, which no pair has, before its first pair). */
  protected readScope(client: StateClient = this.client): Promise<number> {
    return readScope(client, this.flow, this.entity);
  }

  /** The flow entity's scope for writes in the caller's transaction, created when missing. */
  protected writeScope(): Promise<number> {
    return writeScope(this.client, this.flow, this.entity);
  }

  /**
   * A COPY of the pairs: `query` made with their filter, the scope inlined (COPY takes no parameters),
   * once the scope is known. The scope is looked up when the rows are first asked for, on the client that streams them.
   */
  private copyOut(client: StateClient, query: (scope: string) => string): AsyncGenerator<Row> {
    return copyOutRows(client, async () => query(`scope = ${await this.readScope(client)}`));
  }

  async count(): Promise<number> {
    const result = await this.client.query(`SELECT count(*)::int AS n FROM ferry.pairs WHERE scope = $1`, [await this.readScope()]);
    return result.rows[0].n;
  }

  /** The given fields of the pairs with these keys of one side, by that key. */
  protected async byKeys<F extends keyof Pair>(side: PairSide, keys: string[], fields: readonly F[]): Promise<Map<string, Pick<Pair, F>>> {
    if (keys.length === 0) return new Map();
    const result = await this.client.query(
      `SELECT ${selectPairFields([...new Set([KEY_FIELD[side], ...fields])])} FROM ferry.pairs WHERE scope = $1 AND ${KEY_COLUMN[side]} = ANY($2::text[])`,
      [await this.readScope(), keys],
    );
    return new Map(result.rows.map((row) => [row[KEY_FIELD[side]], row]));
  }

  bySourceKeys(keys: string[]): Promise<Map<string, StoredPair>> {
    return this.byKeys('source', keys, STORED_PAIR_FIELDS);
  }

  byTargetKeys(keys: string[]): Promise<Map<string, StoredPair>> {
    return this.byKeys('target', keys, STORED_PAIR_FIELDS);
  }

  /** Key of `side` -> key of the other side, for the given keys of `side` that have a pair (foreign-key translation). */
  async otherKeys(side: PairSide, keys: string[]): Promise<Map<string, string>> {
    const other: PairSide = side === 'source' ? 'target' : 'source';
    const pairs = await this.byKeys(side, keys, [KEY_FIELD[other]]);
    return new Map([...pairs].map(([key, pair]) => [key, pair[KEY_FIELD[other]]]));
  }

  async pairedSourceKeys(keys: string[]): Promise<Set<string>> {
    return new Set((await this.byKeys('source', keys, [])).keys());
  }

  async pairedTargetKeys(keys: string[]): Promise<Set<string>> {
    return new Set((await this.byKeys('target', keys, [])).keys());
  }

  /** The pairs' `columns` in `side`'s key order; with a stage, its rows joined with them, each line led by the staged row (ScanStage.joinSql). */
  protected streamInKeyOrder(streamClient: StateClient, side: PairSide, columns: string, stage?: ScanStage): AsyncGenerator<Row> {
    return this.copyOut(streamClient, (scope) => {
      const pairs = `SELECT ${columns} FROM ferry.pairs WHERE ${scope}`;
      return stage ? stage.joinSql(pairs, KEY_COLUMN[side]) : `${pairs} ORDER BY ${KEY_COLUMN[side]}`;
    });
  }

  /** `[source_key, target_key, source_hash, target_hash, gone]` in source-key order (merge-joined with the source scan). */
  streamBySourceKey(streamClient: StateClient, stage?: ScanStage): AsyncGenerator<Row> {
    return this.streamInKeyOrder(streamClient, 'source', 'source_key, target_key, source_hash, target_hash, source_gone_at IS NOT NULL AS gone', stage);
  }

  /**
   * The SQL condition that a pair of `streamBySourceKey`'s columns, as `pair`, holds a source row of
   * hash `hash` unchanged: its source hash that one, its source row not gone. Only ever true where
   * the engine would classify the row as unchanged (a null hash on either side is never equal here).
   */
  unchangedSourceSql(pair: string, hash: string): string {
    return `${pair}.source_hash = ${hash} AND NOT ${pair}.gone`;
  }

  /** `[target_key, source_key, target_hash]` in target-key order (merge-joined with the target scan). */
  streamByTargetKey(streamClient: StateClient, stage?: ScanStage): AsyncGenerator<Row> {
    return this.streamInKeyOrder(streamClient, 'target', 'target_key, source_key, target_hash', stage);
  }

  /** `[source_key, target_key]` of pairs whose source row vanished, in source-key order. */
  streamGone(streamClient: StateClient): AsyncGenerator<Row> {
    return this.copyOut(streamClient, (scope) => `SELECT source_key, target_key FROM ferry.pairs WHERE ${scope} AND source_gone_at IS NOT NULL ORDER BY source_key`);
  }

  /**
   * Every pair as `[from key, to key]`, unordered: `from` names the side whose key comes first. A
   * caller that keeps them in a compact form never holds them all as strings.
   */
  streamKeys(streamClient: StateClient, from: PairSide): AsyncGenerator<Row> {
    const columns = from === 'source' ? 'source_key, target_key' : 'target_key, source_key';
    return this.copyOut(streamClient, (scope) => `SELECT ${columns} FROM ferry.pairs WHERE ${scope}`);
  }

  /** Key of `from` -> key of the other side, for every pair. */
  async allKeys(streamClient: StateClient, from: PairSide): Promise<Map<string, string>> {
    const map = new Map<string, string>();
    for await (const row of this.streamKeys(streamClient, from)) map.set(row[0]!, row[1]!);
    return map;
  }

  /** A builder of new pairs' COPY data for `insertNewPairs`: a batch can add each pair once its row is written. */
  async newPairs(): Promise<NewPairs> {
    return new NewPairs(await this.writeScope(), this.spareData.pop() ?? this.newPairsSize);
  }

  /**
   * A batch's new pairs' source fields, written as its rows are read (an earlier batch's buffers once
   * released, else sized as the last batch's): synchronous, as a row is taken.
   */
  newPairSources(): NewPairSources {
    const spare = this.spareSources.pop();
    if (spare) return spare.reuse();
    const last = this.lastSources;
    const sources = new NewPairSources(this.spareSources, last ? last.size + (last.size >> 3) : 64 * 1024, last ? last.rows : 1024);
    this.lastSources = sources;
    return sources;
  }

  private readonly spareSources: NewPairSources[] = [];
  private lastSources: NewPairSources | undefined;

  /** Room for the next `newPairs` to start with: a little more than the last batch's data took. */
  private newPairsSize = 64 * 1024;

  /**
   * The buffers of new pairs already sent, for the next batches' `newPairs`. A batch's new pairs take
   * ~0.5 MB; allocated anew per batch, they were ~100 MB of Buffers per 1M rows, and V8 counts Buffers
   * allocated since its last mark-compact towards the old generation's limit (as if they were
   * promoted objects): each batch brought the next mark-compact nearer. A few batches are in flight
   * at a time, so a few buffers go round.
   */
  private readonly spareData: CopyData[] = [];

  /** Bulk-loads pairs for source keys that have none yet (the common case of an initial load). */
  async insertNew(writes: PairWrite[]): Promise<void> {
    const pairs = await this.newPairs();
    for (let i = 0; i < writes.length; i++) {
      const w = writes[i]!;
      pairs.add(w.sourceKey, w.targetKey, w.sourceHash, w.targetHash, w.sourceCursor);
    }
    await this.insertNewPairs(pairs);
  }

  /** Bulk-loads the pairs built by `newPairs` (source keys that have none yet). */
  async insertNewPairs(pairs: NewPairs): Promise<void> {
    if (pairs.count === 0) return;
    await confirmScope(this.client, this.flow, this.entity, pairs.scope);
    const bytes = pairs.toBuffer();
    this.newPairsSize = Math.max(this.newPairsSize, bytes.length + (bytes.length >> 3));
    if (!(await rowSecurityApplies(this.client))) {
      await this.copyPairs('ferry.pairs', bytes);
    } else {
      // PostgreSQL refuses COPY FROM into a table whose row-level security applies (a namespace's role, or a
      // non-superuser owner): the rows go through a temporary table of this session and one INSERT, which the policies check.
      await this.client.query(`CREATE TEMPORARY TABLE IF NOT EXISTS ferry_pairs_load (LIKE ferry.pairs INCLUDING DEFAULTS)`);
      await this.copyPairs('ferry_pairs_load', bytes);
      await this.client.query(`INSERT INTO ferry.pairs (${NEW_PAIR_COLUMNS}) SELECT ${NEW_PAIR_COLUMNS} FROM ferry_pairs_load`);
      await this.client.query('TRUNCATE ferry_pairs_load');
    }
    // The COPY is over: the server has answered after the end of the data, so every byte of the buffer
    // left through the socket and nothing refers to it any more. A COPY that failed keeps its buffer.
    this.spareData.push(pairs.release());
  }

  private async copyPairs(table: string, bytes: Buffer): Promise<void> {
    await copyIn(this.client, `COPY ${table} (${NEW_PAIR_COLUMNS}) FROM STDIN`, bytes);
  }

  async upsert(writes: PairWrite[]): Promise<void> {
    if (writes.length === 0) return;
    await this.client.query(
      `INSERT INTO ferry.pairs AS p (scope, source_key, target_key, source_hash, target_hash, source_cursor, last_origin, last_synced_at, category, source_gone_at)
       SELECT $1, w.sk, w.tk, w.sh, w.th, w.sc, 'source', now(), 'synchronised', NULL
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS w(sk, tk, sh, th, sc)
       ON CONFLICT (scope, source_key) DO UPDATE
         SET target_key = EXCLUDED.target_key, source_hash = EXCLUDED.source_hash, target_hash = EXCLUDED.target_hash,
             source_cursor = EXCLUDED.source_cursor, last_origin = 'source', last_synced_at = now(),
             category = 'synchronised', source_gone_at = NULL`,
      [
        await this.writeScope(),
        writes.map((w) => w.sourceKey),
        writes.map((w) => w.targetKey),
        writes.map((w) => w.sourceHash),
        writes.map((w) => w.targetHash),
        writes.map((w) => w.sourceCursor),
      ],
    );
  }

  /** Sets `set` on the pairs with these source keys (that also meet `condition`); `$3` onwards are `params`. */
  protected async updateBySourceKeys(sourceKeys: string[], set: string, options: { condition?: string; params?: unknown[] } = {}): Promise<void> {
    if (sourceKeys.length === 0) return;
    const condition = options.condition ? ` AND ${options.condition}` : '';
    await this.client.query(`UPDATE ferry.pairs SET ${set} WHERE scope = $1 AND source_key = ANY($2::text[])${condition}`, [
      await this.readScope(),
      sourceKeys,
      ...(options.params ?? []),
    ]);
  }

  /** Forgets the last-synced source hash, so the next run rewrites these rows. */
  markStale(sourceKeys: string[]): Promise<void> {
    return this.updateBySourceKeys(sourceKeys, 'source_hash = NULL');
  }

  markSourceGone(sourceKeys: string[]): Promise<void> {
    return this.updateBySourceKeys(sourceKeys, `source_gone_at = now(), category = 'deleted'`, { condition: 'source_gone_at IS NULL' });
  }

  async remove(sourceKeys: string[]): Promise<void> {
    if (sourceKeys.length === 0) return;
    await this.client.query(`DELETE FROM ferry.pairs WHERE scope = $1 AND source_key = ANY($2::text[])`, [await this.readScope(), sourceKeys]);
  }
}
