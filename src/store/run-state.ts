import type pg from 'pg';
import { literal } from '../util/sql.js';

export interface Watermark {
  cursor: string;
  key: string[];
}

export interface EntityCounters {
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  archived: number;
  deleted: number;
  rejected: number;
  linked: number;
  skipped: number;
  sourceGone: number;
  durationMs: number;
}

export function emptyCounters(): EntityCounters {
  return { read: 0, created: 0, updated: 0, unchanged: 0, archived: 0, deleted: 0, rejected: 0, linked: 0, skipped: 0, sourceGone: 0, durationMs: 0 };
}

/** The committed watermark of each of a flow's entities. */
export async function readWatermarks(client: pg.ClientBase, flow: string): Promise<Record<string, Watermark>> {
  const result = await client.query(`SELECT entity, cursor, key FROM ferry.watermarks WHERE flow = $1 ORDER BY entity`, [flow]);
  return Object.fromEntries(result.rows.map((r) => [r.entity, { cursor: r.cursor, key: r.key }]));
}

const MARKER_INSERT = 'INSERT INTO ferry.inflight_batches (flow, entity, run_id, source_keys, target_transaction)';

/** A batch a run left between its pairs commit and its target commit (see inflightBatches in schema.ts). */
export interface InflightMarker {
  id: number;
  entity: string;
  sourceKeys: string[];
  /**
   * The token of the target transaction writing the batch's rows. Only a marker whose every pair is
   * new in its batch records it (a record paired by that batch, see beginInflight): when that
   * transaction aborted, the recovery drops every pair of the marker, as they were before the batch.
   */
  targetTransaction?: string;
}

/** Run bookkeeping in the state DB: runs, per-entity counters, watermarks, rejected samples, inflight batches. */
export class RunState {
  constructor(
    private readonly client: pg.ClientBase,
    readonly flow: string,
    readonly runId: string,
  ) {}

  async readWatermark(entity: string): Promise<Watermark | undefined> {
    const result = await this.client.query(`SELECT cursor, key FROM ferry.watermarks WHERE flow = $1 AND entity = $2`, [this.flow, entity]);
    if (result.rowCount === 0) return undefined;
    return { cursor: result.rows[0].cursor, key: result.rows[0].key };
  }

  async readAllWatermarks(): Promise<Record<string, Watermark>> {
    return readWatermarks(this.client, this.flow);
  }

  async writeWatermark(entity: string, watermark: Watermark): Promise<void> {
    await this.client.query(
      `INSERT INTO ferry.watermarks (flow, entity, cursor, key, run_id, updated_at) VALUES ($1, $2, $3, $4::jsonb, $5, now())
       ON CONFLICT (flow, entity) DO UPDATE SET cursor = EXCLUDED.cursor, key = EXCLUDED.key, run_id = EXCLUDED.run_id, updated_at = now()`,
      [this.flow, entity, watermark.cursor, JSON.stringify(watermark.key), this.runId],
    );
  }

  async saveCounters(entity: string, position: number, c: EntityCounters): Promise<void> {
    await this.client.query(
      `INSERT INTO ferry.run_entities (run_id, entity, position, read, created, updated, unchanged, archived, deleted, rejected, duration_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (run_id, entity) DO UPDATE SET read = EXCLUDED.read, created = EXCLUDED.created, updated = EXCLUDED.updated,
         unchanged = EXCLUDED.unchanged, archived = EXCLUDED.archived, deleted = EXCLUDED.deleted, rejected = EXCLUDED.rejected,
         duration_ms = EXCLUDED.duration_ms`,
      [this.runId, entity, position, c.read, c.created, c.updated, c.unchanged, c.archived, c.deleted, c.rejected, c.durationMs],
    );
  }

  /** The final counters of every entity in one statement (a run reports dozens of entities). */
  async saveAllCounters(entities: { entity: string; position: number; counters: EntityCounters }[]): Promise<void> {
    if (entities.length === 0) return;
    const column = (pick: (c: EntityCounters) => number) => entities.map((e) => pick(e.counters));
    await this.client.query(
      `INSERT INTO ferry.run_entities (run_id, entity, position, read, created, updated, unchanged, archived, deleted, rejected, duration_ms)
       SELECT $1, * FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[])
       ON CONFLICT (run_id, entity) DO UPDATE SET read = EXCLUDED.read, created = EXCLUDED.created, updated = EXCLUDED.updated,
         unchanged = EXCLUDED.unchanged, archived = EXCLUDED.archived, deleted = EXCLUDED.deleted, rejected = EXCLUDED.rejected,
         duration_ms = EXCLUDED.duration_ms`,
      [
        this.runId,
        entities.map((e) => e.entity),
        entities.map((e) => e.position),
        column((c) => c.read),
        column((c) => c.created),
        column((c) => c.updated),
        column((c) => c.unchanged),
        column((c) => c.archived),
        column((c) => c.deleted),
        column((c) => c.rejected),
        column((c) => c.durationMs),
      ],
    );
  }

  async recordRejected(rows: { entity: string; sourceKey: string | null; reason: string }[]): Promise<void> {
    if (rows.length === 0) return;
    await this.client.query(
      `INSERT INTO ferry.rejected_rows (run_id, entity, source_key, reason)
       SELECT $1, r.entity, r.source_key, r.reason FROM unnest($2::text[], $3::text[], $4::text[]) AS r(entity, source_key, reason)`,
      [this.runId, rows.map((r) => r.entity), rows.map((r) => r.sourceKey), rows.map((r) => r.reason)],
    );
  }

  /**
   * The markers of one batch in one statement: the pairs new in the batch with the token of the
   * target transaction writing their rows (see InflightMarker), the pairs it updates without; an
   * empty list gets no marker. Returns the ids of the markers written.
   */
  async beginInflight(entity: string, newKeys: string[], updatedKeys: string[], targetTransaction?: string): Promise<number[]> {
    const rows: string[] = [];
    if (newKeys.length > 0) rows.push(this.markerRow(entity, newKeys, targetTransaction));
    if (updatedKeys.length > 0) rows.push(this.markerRow(entity, updatedKeys, undefined));
    if (rows.length === 0) return [];
    const result = await this.client.query(`${MARKER_INSERT} VALUES ${rows.join(', ')} RETURNING id`);
    return result.rows.map((r) => Number(r.id));
  }

  /**
   * The INSERT of a marker for `sourceKeys`, returning its id, as one statement's text (values as
   * literals). The keys go in as JSON text, which the server stores as it is (see inflightBatches in schema.ts).
   * `targetTransaction`: the token of the target transaction writing the batch's rows, when the target gives one.
   */
  private insertMarker(entity: string, sourceKeys: string[], targetTransaction: string | undefined): string {
    return `${MARKER_INSERT} VALUES ${this.markerRow(entity, sourceKeys, targetTransaction)} RETURNING id`;
  }

  private markerRow(entity: string, sourceKeys: string[], targetTransaction: string | undefined): string {
    const transaction = targetTransaction === undefined ? 'NULL' : literal(targetTransaction);
    return `(${literal(this.flow)}, ${literal(entity)}, ${literal(this.runId)}, ${literal(JSON.stringify(sourceKeys))}, ${transaction})`;
  }

  /**
   * Opens a transaction on this client that clears the markers `clear` (batches whose target commit
   * is done) and begins one for `sourceKeys`, all in one round trip (one multi-statement query
   * instead of BEGIN, DELETE and INSERT one after the other); returns the new marker's id. The
   * caller writes the batch's pairs, then commits (or rolls back, also when this throws: the
   * transaction may be open). `targetTransaction`: see insertMarker.
   */
  async beginWithInflight(entity: string, sourceKeys: string[], clear: number[] = [], targetTransaction?: string): Promise<number> {
    const statements = ['BEGIN'];
    if (clear.length > 0) statements.push(`DELETE FROM ferry.inflight_batches WHERE id IN (${clear.map((id) => String(Math.trunc(id))).join(', ')})`);
    statements.push(this.insertMarker(entity, sourceKeys, targetTransaction));
    const results = (await this.client.query(statements.join(';\n'))) as unknown as pg.QueryResult[];
    return Number(results.at(-1)!.rows[0].id);
  }

  /** Clears one marker, or several in one statement. */
  async endInflight(id: number | number[]): Promise<void> {
    const ids = typeof id === 'number' ? [id] : id;
    if (ids.length === 0) return;
    await this.client.query(`DELETE FROM ferry.inflight_batches WHERE id = ANY($1::bigint[])`, [ids]);
  }

  async pendingInflight(): Promise<InflightMarker[]> {
    const result = await this.client.query(`SELECT id, entity, source_keys, target_transaction FROM ferry.inflight_batches WHERE flow = $1 ORDER BY id`, [this.flow]);
    return result.rows.map((r) => ({
      id: Number(r.id),
      entity: r.entity,
      sourceKeys: JSON.parse(r.source_keys) as string[],
      ...(r.target_transaction === null ? {} : { targetTransaction: String(r.target_transaction) }),
    }));
  }
}
