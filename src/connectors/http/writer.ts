import { normaliseValue, type CreatedRow, type CreateIntent, type DrawnKeyList, type FreshRows, type CreateRow, type Row, type RowRejection, type StageRow, type TableWriter } from '../../engine/connector.js';
import type { EntityPlan } from '../../engine/plan.js';
import { randomBytes } from 'node:crypto';
import type { HttpMethod } from './client.js';
import { setPointer } from './json-pointer.js';
import { listRecords } from './pagination.js';
import { checked, fieldOf, readField, TargetRows } from './records.js';
import { isNotFound, isRejected, mayHaveApplied, rejectionReason, type Requester } from './requester.js';
import { fillPath, type ResolvedEndpoint, type ResolvedResource } from './resource.js';
import { toJson, ValueError } from './values.js';

/** What a writer shares with its session: dry-run state and the match index of a resource. */
export interface WriteMemory {
  simulated: boolean;
  nextSimulatedKey(): string;
  /** normalised match values (joined with U+0001) -> key, built from one list of the resource. */
  matchIndex?: Map<string, string[]>;
}

const MATCH_SEPARATOR = '\u0001';

/**
 * Writes an entity through an API. There are no transactions: every write is applied when it is
 * sent, so a dry run sends none (`WriteMemory.simulated`). Creates are made safe against lost
 * responses: when the API may have applied a create whose answer never came (or the engine hands over
 * an intent an earlier run left open), the create is sent again with the same idempotency key where
 * the API takes one (`create.idempotencyKeyHeader`), else the record is looked up by the entity's
 * match fields before it is created again.
 */
export class HttpWriter implements TableWriter {
  private readonly rows: TargetRows;
  private staged = new Map<number, StageRow>();

  constructor(
    private readonly client: Requester,
    private readonly plan: EntityPlan,
    private readonly resource: ResolvedResource,
    private readonly memory: WriteMemory,
  ) {
    this.rows = new TargetRows(plan, resource);
  }

  private endpoint(which: 'create' | 'update' | 'delete' | 'archive'): ResolvedEndpoint {
    const endpoint = this.resource[which];
    if (!endpoint) throw new Error(`resource "${this.resource.name}" has no ${which} endpoint (resource.${which})`);
    return endpoint;
  }

  /** A request body from the plan's fields (`create` adds create-only fields and mapped keys). */
  private body(values: (string | null)[], key: string[] | undefined, creating: boolean): Record<string, unknown> {
    const body: Record<string, unknown> = {};
    this.rows.fields.forEach((field, i) => {
      if (field.readOnly || (field.createOnly && !creating)) return;
      // A new record has no value to clear (and WordPress refuses null meta on a create).
      if (creating && values[i] === null) return;
      // Clearing writes the API's own "unset" value (WordPress refuses null for meta it cannot validate).
      const value = values[i] === null && field.unsetValue !== undefined ? field.unsetValue : values[i];
      setPointer(body, field.pointer, checked(field, () => toJson(value, field.type)));
    });
    if (key && this.plan.target.keyMode === 'mapped') {
      this.rows.keys.forEach((field, i) => {
        if (!field.readOnly) setPointer(body, field.pointer, checked(field, () => toJson(key[i], field.type)));
      });
    }
    return body;
  }

  /** The body with the endpoint's constant members ({random}: drawn now, so fill it once per record). */
  private withConstants(endpoint: ResolvedEndpoint, body: Record<string, unknown>): Record<string, unknown> {
    for (const [pointer, value] of endpoint.body) setPointer(body, pointer, value === '{random}' ? randomBytes(24).toString('base64url') : value);
    return body;
  }

  /** Sends one request; a body goes as given (`withConstants` first). */
  private async send(endpoint: ResolvedEndpoint, key: string[] | undefined, body?: Record<string, unknown>, headers?: Record<string, string>): Promise<unknown> {
    const response = await this.client.request({
      method: endpoint.method as HttpMethod,
      path: key ? fillPath(endpoint.path, key) : endpoint.path,
      query: Object.fromEntries(endpoint.query),
      ...(body !== undefined ? { body } : {}),
      ...(headers ? { headers } : {}),
    });
    return response.body;
  }

  private update(key: string[], values: (string | null)[]): Promise<unknown> {
    const endpoint = this.endpoint('update');
    return this.send(endpoint, key, this.withConstants(endpoint, this.body(values, key, false)));
  }

  async isEmpty(): Promise<boolean> {
    for await (const page of listRecords(this.client, this.resource.list)) return page.length === 0;
    return true;
  }

  async allocateKeys(): Promise<DrawnKeyList> {
    throw new Error('an API returns the keys of new records; it does not hand them out before');
  }

  async copyFresh(rows: FreshRows): Promise<string[] | undefined> {
    return rows.keys.length === 0 ? [] : undefined;
  }

  /**
   * Creates one record. A create that may have landed before (its answer was lost, or its intent is
   * reopened from an earlier run) is completed without a second record: sent again with the same
   * idempotency key where the API takes one, else looked up by its match values first.
   */
  private async create(values: (string | null)[], key: string[] | undefined, intent?: CreateIntent): Promise<CreatedRow> {
    const body = this.body(values, key, true);
    if (this.memory.simulated) return { key: key ?? [this.memory.nextSimulatedKey()], hash: this.rows.expectedHash(values) };
    const endpoint = this.endpoint('create');
    const target = key && endpoint.path.includes('{key}') ? key : undefined;
    const header = intent && this.resource.create?.idempotencyKeyHeader;
    const headers = header ? { [header]: intent.idempotencyKey } : undefined;
    const filled = this.withConstants(endpoint, body);
    let recovering = intent?.reopened === true;
    if (recovering && !headers) {
      const found = await this.findCreated(values, false);
      if (found) return found;
      recovering = false;
    }
    let attempt = 0;
    for (;;) {
      try {
        const record = await this.send(endpoint, target, filled, headers);
        const created = { key: key ?? this.rows.key(record), hash: this.rows.hash(record) };
        this.remember(values, created.key);
        // The same key hands back the record as first created: bring it to the values of now.
        return recovering ? { ...(await this.upToDate(created, values)), recovered: true } : created;
      } catch (error) {
        if (!mayHaveApplied(error) || attempt++ > 0) throw error;
        recovering = true;
        if (headers) continue;
        const found = await this.findCreated(values, true);
        if (found) return found;
      }
    }
  }

  /** A record found again after a lost create, updated when its values are no longer the ones to write. */
  private async upToDate(found: { key: string[]; hash: string }, values: (string | null)[]): Promise<{ key: string[]; hash: string }> {
    if (found.hash === this.rows.expectedHash(values) || !this.resource.update) return found;
    const record = await this.update(found.key, values);
    return { key: found.key, hash: this.rows.hash(record) };
  }

  /** The match values of a row about to be written, normalised; undefined when a match field is not among the written ones. */
  private matchKey(values: (string | null)[]): string | undefined {
    const parts: string[] = [];
    for (const m of this.plan.match) {
      const index = this.plan.fields.findIndex((f) => f.target === m.target);
      const value = index >= 0 ? values[index] : null;
      if (value === null) return undefined;
      parts.push(normaliseValue(value, m.normalize));
    }
    return parts.length > 0 ? parts.join(MATCH_SEPARATOR) : undefined;
  }

  private remember(values: (string | null)[], key: string[]): void {
    const match = this.matchKey(values);
    if (match !== undefined) this.memory.matchIndex?.set(match, key);
  }

  /** The record a lost create made, found by its match values (in a fresh list, or the one just made for the batch), brought up to date. */
  private async findCreated(values: (string | null)[], fresh: boolean): Promise<CreatedRow | undefined> {
    const match = this.matchKey(values);
    if (match === undefined) return undefined;
    if (fresh) this.memory.matchIndex = undefined;
    const key = (await this.index()).get(match);
    if (!key) return undefined;
    const hashes = await this.currentHashes([key]);
    const found = { key, hash: hashes.get(this.plan.target.codec.encode(key)!) ?? this.rows.expectedHash(values) };
    return { ...(await this.upToDate(found, values)), recovered: true };
  }

  async insertReturningKeys(rows: CreateRow[], rejections: RowRejection[]): Promise<Map<number, CreatedRow>> {
    const out = new Map<number, CreatedRow>();
    // Creates an earlier run may have made are looked for in one fresh list, not one list each.
    if (this.plan.match.length > 0 && rows.some((row) => row.intent?.reopened) && !this.resource.create?.idempotencyKeyHeader) {
      this.memory.matchIndex = undefined;
      await this.index();
    }
    await Promise.all(
      rows.map(async (row) => {
        try {
          out.set(row.seq, await this.create(row.values, undefined, row.intent));
        } catch (error) {
          if (error instanceof ValueError || isRejected(error)) rejections.push({ seq: row.seq, reason: rejectionReason(error) });
          else throw error;
        }
      }),
    );
    return out;
  }

  async stageRows(rows: StageRow[], rejections: RowRejection[]): Promise<void> {
    this.staged = new Map();
    for (const row of rows) {
      try {
        this.body(row.values, row.key, false);
        this.staged.set(row.seq, row);
      } catch (error) {
        if (!(error instanceof ValueError)) throw error;
        rejections.push({ seq: row.seq, reason: error.message });
      }
    }
  }

  async expectedHashes(): Promise<Map<number, string>> {
    return new Map([...this.staged].map(([seq, row]) => [seq, this.rows.expectedHash(row.values)]));
  }

  async write(seqs: number[], rejections: RowRejection[], mode: 'insert' | 'upsert', recreated?: Map<number, { key: string[]; hash: string }>): Promise<void> {
    const gone: StageRow[] = [];
    await Promise.all(
      seqs.map(async (seq) => {
        const row = this.staged.get(seq)!;
        try {
          if (mode === 'insert') await this.create(row.values, row.key);
          else if (!this.memory.simulated) await this.update(row.key, row.values);
        } catch (error) {
          if (isNotFound(error) && recreated && this.resource.create && this.plan.target.keyMode === 'generated') gone.push(row);
          else if (isNotFound(error)) rejections.push({ seq, reason: `the record ${row.key.join(', ')} is gone from the API` });
          else if (isRejected(error)) rejections.push({ seq, reason: rejectionReason(error) });
          else throw error;
        }
      }),
    );
    if (gone.length > 0) await this.recreate(gone, rejections, recreated!);
  }

  /**
   * Records deleted in the API behind Ferry's back: found by their match values first and updated
   * (one fresh list for all of them: an earlier run may have re-created one and crashed before its
   * pair moved), else created again. Their new keys go to `recreated`.
   */
  private async recreate(rows: StageRow[], rejections: RowRejection[], recreated: Map<number, { key: string[]; hash: string }>): Promise<void> {
    this.memory.matchIndex = undefined;
    const index = this.plan.match.length > 0 ? await this.index() : new Map<string, string[]>();
    await Promise.all(
      rows.map(async (row) => {
        try {
          const match = this.matchKey(row.values);
          const key = match === undefined ? undefined : index.get(match);
          if (!key) {
            recreated.set(row.seq, await this.create(row.values, undefined));
            return;
          }
          const record = await this.update(key, row.values);
          recreated.set(row.seq, { key, hash: this.rows.hash(record) });
        } catch (error) {
          if (error instanceof ValueError || isRejected(error)) rejections.push({ seq: row.seq, reason: rejectionReason(error) });
          else throw error;
        }
      }),
    );
  }

  async setArchived(keys: string[][], archived: boolean): Promise<void> {
    const archive = this.plan.target.archive;
    if (!archive || keys.length === 0 || this.memory.simulated) return;
    const field = fieldOf(this.resource, archive.column);
    // An API has no column default: a boolean flag has a known opposite, other fields need restoreValue
    // (without it the archive value stays until the record's next update).
    const restore = archive.restoreValue ?? (field.type === 'boolean' ? 'false' : undefined);
    if (!archived && restore === undefined) return;
    const body: Record<string, unknown> = {};
    setPointer(body, field.pointer, toJson(archived ? archive.value : restore!, field.type));
    const endpoint = this.endpoint('archive');
    await Promise.all(keys.map((key) => this.send(endpoint, key, this.withConstants(endpoint, structuredClone(body)))));
  }

  async deleteRows(keys: string[][], reject: (key: string[], reason: string) => void): Promise<number> {
    if (this.memory.simulated) return keys.length;
    const endpoint = this.endpoint('delete');
    const done = await Promise.all(
      keys.map(async (key) => {
        try {
          await this.send(endpoint, key);
          return 1;
        } catch (error) {
          if (isNotFound(error)) return 0;
          if (isRejected(error)) {
            reject(key, rejectionReason(error));
            return 0;
          }
          throw error;
        }
      }),
    );
    return done.reduce<number>((a, b) => a + b, 0);
  }

  async currentHashes(keys: string[][]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const get = this.resource.get;
    const codec = this.plan.target.codec;
    if (!get) {
      const wanted = new Set(keys.map((k) => codec.encode(k)!));
      for await (const row of this.streamHashes()) {
        const encoded = codec.encode(row.slice(0, -1) as string[])!;
        if (wanted.has(encoded)) out.set(encoded, row[row.length - 1]!);
      }
      return out;
    }
    await Promise.all(
      keys.map(async (key) => {
        try {
          const response = await this.client.request({ method: 'GET', path: fillPath(get.path, key), query: Object.fromEntries(get.query) });
          out.set(codec.encode(key)!, this.rows.hash(response.body));
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }),
    );
    return out;
  }

  async *streamHashes(): AsyncGenerator<Row> {
    for await (const page of listRecords(this.client, this.resource.list, this.resource.sort)) {
      for (const record of page) yield [...this.rows.key(record), this.rows.hash(record)];
    }
  }

  /** The match index of the resource: one list, kept for the session. */
  private async index(): Promise<Map<string, string[]>> {
    if (this.memory.matchIndex) return this.memory.matchIndex;
    const fields = this.plan.match.map((m) => ({ field: fieldOf(this.resource, m.target), normalize: m.normalize }));
    const index = new Map<string, string[]>();
    for await (const page of listRecords(this.client, this.resource.list, this.resource.sort)) {
      for (const record of page) {
        const values = fields.map(({ field }) => readField(record, field));
        if (values.some((v) => v === null)) continue;
        const match = values.map((v, i) => normaliseValue(v!, fields[i].normalize)).join(MATCH_SEPARATOR);
        if (!index.has(match)) index.set(match, this.rows.key(record));
      }
    }
    this.memory.matchIndex = index;
    return index;
  }

  async findMatches(candidates: string[][]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (candidates.length === 0 || this.plan.match.length === 0) return out;
    const index = await this.index();
    for (const candidate of candidates) {
      const match = candidate.join(MATCH_SEPARATOR);
      const key = index.get(match);
      if (key) out.set(match, key);
    }
    return out;
  }
}
