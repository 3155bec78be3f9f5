import type { StateClient } from './state-connection.js';

/** A create about to be sent for one record: `sourceKey` is the encoded key of the record it copies. */
export interface CreateIntentRow {
  sourceKey: string;
  idempotencyKey: string;
}

/**
 * The open creates of one flow, entity and side (ferry.create_intents): written and committed before
 * a create goes to a system that cannot roll it back, deleted with the new record's pair.
 */
export class CreateIntents {
  constructor(
    private readonly client: StateClient,
    readonly flow: string,
    readonly entity: string,
    readonly side: 'source' | 'target',
    readonly runId: string,
  ) {}

  /** Open intents among these source keys: source key -> idempotency key. */
  async open(sourceKeys: string[]): Promise<Map<string, string>> {
    if (sourceKeys.length === 0) return new Map();
    const result = await this.client.query<{ source_key: string; idempotency_key: string }>(
      `SELECT source_key, idempotency_key FROM ferry.create_intents WHERE flow = $1 AND entity = $2 AND side = $3 AND source_key = ANY($4::text[])`,
      [this.flow, this.entity, this.side, sourceKeys],
    );
    return new Map(result.rows.map((r) => [r.source_key, r.idempotency_key]));
  }

  /** Records intents; one already open for a key keeps its idempotency key. */
  async record(intents: CreateIntentRow[]): Promise<void> {
    if (intents.length === 0) return;
    await this.client.query(
      `INSERT INTO ferry.create_intents (flow, entity, side, source_key, idempotency_key, run_id)
       SELECT $1, $2, $3, k, i, $4 FROM unnest($5::text[], $6::text[]) AS u(k, i)
       ON CONFLICT (flow, entity, side, source_key) DO NOTHING`,
      [this.flow, this.entity, this.side, this.runId, intents.map((i) => i.sourceKey), intents.map((i) => i.idempotencyKey)],
    );
  }

  /** Clears the intents of these source keys; returns the keys that had one. */
  async clear(sourceKeys: string[]): Promise<string[]> {
    if (sourceKeys.length === 0) return [];
    const result = await this.client.query<{ source_key: string }>(
      `DELETE FROM ferry.create_intents WHERE flow = $1 AND entity = $2 AND side = $3 AND source_key = ANY($4::text[]) RETURNING source_key`,
      [this.flow, this.entity, this.side, sourceKeys],
    );
    return result.rows.map((r) => r.source_key);
  }
}
