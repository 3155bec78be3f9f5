import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { escapeCopyField } from '../util/copy-text.js';
import { copyOutRows, type Row } from '../util/copy-out.js';
import { literal } from '../util/sql.js';
import type { ScanStage } from './scan-stage.js';

export interface PairWrite {
  sourceKey: string;
  targetKey: string;
  sourceHash: string | null;
  targetHash: string | null;
  sourceCursor: string | null;
}

export interface StoredPair {
  sourceKey: string;
  targetKey: string;
  sourceHash: string | null;
  targetHash: string | null;
  sourceGone: boolean;
}

/**
 * The pairs of several entities' source keys in one query: a Record run reads its few dozen up
 * front. Mirrors `PairStore.bySourceKeys`, which stays the per-entity path for large batches.
 */
export async function pairsBySourceKeys(
  client: pg.ClientBase,
  flow: string,
  keysByEntity: Map<string, string[]>,
): Promise<Map<string, Map<string, StoredPair>>> {
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
    `SELECT entity, source_key, target_key, source_hash, target_hash, source_gone_at IS NOT NULL AS gone
       FROM ferry.pairs WHERE flow = $1 AND (entity, source_key) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
    [flow, entities, keys],
  );
  for (const r of result.rows) {
    out.get(r.entity)!.set(r.source_key, {
      sourceKey: r.source_key,
      targetKey: r.target_key,
      sourceHash: r.source_hash,
      targetHash: r.target_hash,
      sourceGone: r.gone,
    });
  }
  return out;
}

/** Bulk access to the pairs of one flow and entity. Keys are encoded (engine/keys.ts). */
export class PairStore {
  constructor(
    private readonly client: pg.ClientBase,
    readonly flow: string,
    readonly entity: string,
  ) {}

  private scope(): string {
    return `flow = ${literal(this.flow)} AND entity = ${literal(this.entity)}`;
  }

  async count(): Promise<number> {
    const result = await this.client.query(`SELECT count(*)::int AS n FROM ferry.pairs WHERE ${this.scope()}`);
    return result.rows[0].n;
  }

  /**
   * All pairs `[source_key, target_key, source_hash, target_hash, gone]` in source-key order, as a
   * stream (merge-joined with the source scan); with a stage, its rows joined with the pairs there,
   * each line led by the staged row (see ScanStage.joinSql).
   */
  streamBySourceKey(streamClient: pg.ClientBase, stage?: ScanStage): AsyncGenerator<Row> {
    const pairs = `SELECT source_key, target_key, source_hash, target_hash, source_gone_at IS NOT NULL AS gone FROM ferry.pairs WHERE ${this.scope()}`;
    return copyOutRows(streamClient, stage ? stage.joinSql(pairs, 'source_key') : `${pairs} ORDER BY source_key`);
  }

  /** `[target_key, source_key, target_hash]` in target-key order (merge-joined with the target scan, or joined with a stage). */
  streamByTargetKey(streamClient: pg.ClientBase, stage?: ScanStage): AsyncGenerator<Row> {
    const pairs = `SELECT target_key, source_key, target_hash FROM ferry.pairs WHERE ${this.scope()}`;
    return copyOutRows(streamClient, stage ? stage.joinSql(pairs, 'target_key') : `${pairs} ORDER BY target_key`);
  }

  /** Pairs whose source row vanished, in source-key order. */
  streamGone(streamClient: pg.ClientBase): AsyncGenerator<Row> {
    return copyOutRows(
      streamClient,
      `SELECT source_key, target_key FROM ferry.pairs WHERE ${this.scope()} AND source_gone_at IS NOT NULL ORDER BY source_key`,
    );
  }

  async bySourceKeys(keys: string[]): Promise<Map<string, StoredPair>> {
    const result = await this.client.query(
      `SELECT source_key, target_key, source_hash, target_hash, source_gone_at IS NOT NULL AS gone
         FROM ferry.pairs WHERE flow = $1 AND entity = $2 AND source_key = ANY($3::text[])`,
      [this.flow, this.entity, keys],
    );
    return new Map(
      result.rows.map((r) => [
        r.source_key,
        { sourceKey: r.source_key, targetKey: r.target_key, sourceHash: r.source_hash, targetHash: r.target_hash, sourceGone: r.gone },
      ]),
    );
  }

  async pairedTargetKeys(targetKeys: string[]): Promise<Set<string>> {
    const result = await this.client.query(
      `SELECT target_key FROM ferry.pairs WHERE flow = $1 AND entity = $2 AND target_key = ANY($3::text[])`,
      [this.flow, this.entity, targetKeys],
    );
    return new Set(result.rows.map((r) => r.target_key));
  }

  /** Bulk-loads pairs for source keys that have none yet (the common case of an initial load). */
  async insertNew(writes: PairWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const prefix = `${escapeCopyField(this.flow)}\t${escapeCopyField(this.entity)}\t`;
    let text = '';
    for (const w of writes) {
      text += `${prefix}${escapeCopyField(w.sourceKey)}\t${escapeCopyField(w.targetKey)}\t${escapeCopyField(w.sourceHash)}\t${escapeCopyField(w.targetHash)}\t${escapeCopyField(w.sourceCursor)}\n`;
    }
    await pipeline(
      Readable.from([text]),
      this.client.query(copyFrom('COPY ferry.pairs (flow, entity, source_key, target_key, source_hash, target_hash, source_cursor) FROM STDIN')),
    );
  }

  async upsert(writes: PairWrite[]): Promise<void> {
    if (writes.length === 0) return;
    await this.client.query(
      `INSERT INTO ferry.pairs AS p (flow, entity, source_key, target_key, source_hash, target_hash, source_cursor, last_origin, last_synced_at, category, source_gone_at)
       SELECT $1, $2, w.sk, w.tk, w.sh, w.th, w.sc, 'source', now(), 'synchronised', NULL
         FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS w(sk, tk, sh, th, sc)
       ON CONFLICT (flow, entity, source_key) DO UPDATE
         SET target_key = EXCLUDED.target_key, source_hash = EXCLUDED.source_hash, target_hash = EXCLUDED.target_hash,
             source_cursor = EXCLUDED.source_cursor, last_origin = 'source', last_synced_at = now(),
             category = 'synchronised', source_gone_at = NULL`,
      [
        this.flow,
        this.entity,
        writes.map((w) => w.sourceKey),
        writes.map((w) => w.targetKey),
        writes.map((w) => w.sourceHash),
        writes.map((w) => w.targetHash),
        writes.map((w) => w.sourceCursor),
      ],
    );
  }

  /** Forgets the last-synced source hash, so the next run rewrites these rows. */
  async markStale(sourceKeys: string[]): Promise<void> {
    if (sourceKeys.length === 0) return;
    await this.client.query(
      `UPDATE ferry.pairs SET source_hash = NULL WHERE flow = $1 AND entity = $2 AND source_key = ANY($3::text[])`,
      [this.flow, this.entity, sourceKeys],
    );
  }

  async markSourceGone(sourceKeys: string[]): Promise<void> {
    if (sourceKeys.length === 0) return;
    await this.client.query(
      `UPDATE ferry.pairs SET source_gone_at = now(), category = 'deleted' WHERE flow = $1 AND entity = $2 AND source_key = ANY($3::text[]) AND source_gone_at IS NULL`,
      [this.flow, this.entity, sourceKeys],
    );
  }

  async remove(sourceKeys: string[]): Promise<void> {
    if (sourceKeys.length === 0) return;
    await this.client.query(`DELETE FROM ferry.pairs WHERE flow = $1 AND entity = $2 AND source_key = ANY($3::text[])`, [
      this.flow,
      this.entity,
      sourceKeys,
    ]);
  }

  /** Source key -> target key for the given source keys (foreign-key translation). */
  async targetKeysFor(sourceKeys: string[]): Promise<Map<string, string>> {
    const result = await this.client.query(
      `SELECT source_key, target_key FROM ferry.pairs WHERE flow = $1 AND entity = $2 AND source_key = ANY($3::text[])`,
      [this.flow, this.entity, sourceKeys],
    );
    return new Map(result.rows.map((r) => [r.source_key, r.target_key]));
  }

  /** Target key -> source key for the given target keys (two-way foreign-key translation). */
  async sourceKeysFor(targetKeys: string[]): Promise<Map<string, string>> {
    const result = await this.client.query(
      `SELECT source_key, target_key FROM ferry.pairs WHERE flow = $1 AND entity = $2 AND target_key = ANY($3::text[])`,
      [this.flow, this.entity, targetKeys],
    );
    return new Map(result.rows.map((r) => [r.target_key, r.source_key]));
  }

  async allSourceKeys(streamClient: pg.ClientBase): Promise<Map<string, string>> {
    const map = new Map<string, string>();
    for await (const row of copyOutRows(streamClient, `SELECT target_key, source_key FROM ferry.pairs WHERE ${this.scope()}`)) {
      map.set(row[0]!, row[1]!);
    }
    return map;
  }

  async allTargetKeys(streamClient: pg.ClientBase): Promise<Map<string, string>> {
    const map = new Map<string, string>();
    for await (const row of copyOutRows(streamClient, `SELECT source_key, target_key FROM ferry.pairs WHERE ${this.scope()}`)) {
      map.set(row[0]!, row[1]!);
    }
    return map;
  }
}
