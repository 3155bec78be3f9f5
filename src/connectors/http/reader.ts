import type { Row, TableReader, Watermark } from '../../engine/connector.js';
import type { EntityPlan } from '../../engine/plan.js';
import { compareMarks, filterValue } from './cursor.js';
import { listRecords } from './pagination.js';
import { fieldOf, SourceRows } from './records.js';
import { isNotFound, type Requester } from './requester.js';
import { fillPath, type Params, type ResolvedResource } from './resource.js';

/** What the session remembers between reads of one resource: the newest `(cursor, key)` the last full list saw. */
export interface ReadMemory {
  newest?: Watermark;
  /** Said once per run: Incremental lists everything and filters in Ferry. */
  noteClientSideFilter(resource: string): void;
}

/**
 * Reads an entity from an API. Lists come in the API's order (capability `orderedScan: false`: the
 * engine stages and joins them); Incremental uses the server-side filter when the resource has one,
 * otherwise it lists everything and filters here, and always sorts the changed records into the
 * tie-safe `(cursor, key)` order itself. Changed records are held in memory to be sorted.
 */
export class HttpReader implements TableReader {
  private readonly rows: SourceRows;
  readonly incrementalNote: string | undefined;

  constructor(
    private readonly client: Requester,
    private readonly plan: EntityPlan,
    private readonly resource: ResolvedResource,
    private readonly memory: ReadMemory,
  ) {
    this.rows = new SourceRows(plan, resource);
    this.incrementalNote = resource.incremental
      ? undefined
      : `the API resource ${resource.name} has no server-side filter (resource.incremental): Incremental listed every record and kept the changed ones`;
  }

  private get cursorType() {
    return fieldOf(this.resource, this.plan.source.updatedAt!).type;
  }

  private async *records(extra: Params = []): AsyncGenerator<unknown> {
    for await (const page of listRecords(this.client, this.resource.list, [...this.resource.sort, ...extra])) yield* page;
  }

  async *scan(withValues: boolean): AsyncGenerator<Row> {
    let newest: Watermark | undefined;
    for await (const record of this.records()) {
      const row = this.rows.row(record, withValues);
      if (this.plan.source.updatedAt) newest = this.newer(newest, record);
      yield row;
    }
    this.memory.newest = newest;
  }

  private newer(current: Watermark | undefined, record: unknown): Watermark | undefined {
    const cursor = this.rows.cursorOf(record);
    if (cursor === null) return current;
    const mark = { cursor, key: this.rows.key(record) };
    return !current || compareMarks(mark, current, this.cursorType, this.plan.source.codec) > 0 ? mark : current;
  }

  private filterParams(watermark: Watermark | undefined): Params {
    const filter = this.resource.incremental;
    if (!watermark) return [];
    if (!filter) {
      this.memory.noteClientSideFilter(this.resource.name);
      return [];
    }
    const value = filterValue(watermark, this.cursorType, filter.boundary);
    return filter.query.map(([name, template]) => [name, template.replace(/\{cursor\}/g, value)]);
  }

  async *changedSince(watermark: Watermark | undefined): AsyncGenerator<Row> {
    const changed: { mark: Watermark; row: Row }[] = [];
    const type = this.cursorType;
    const codec = this.plan.source.codec;
    for await (const record of this.records(this.filterParams(watermark))) {
      const cursor = this.rows.cursorOf(record);
      if (cursor === null) continue;
      const mark = { cursor, key: this.rows.key(record) };
      if (watermark && compareMarks(mark, watermark, type, codec) <= 0) continue;
      changed.push({ mark, row: this.rows.row(record, true) });
    }
    changed.sort((a, b) => compareMarks(a.mark, b.mark, type, codec));
    for (const { row } of changed) yield row;
  }

  async *byKeys(keys: string[][]): AsyncGenerator<Row> {
    const get = this.resource.get;
    if (!get) {
      const wanted = new Set(keys.map((k) => this.plan.source.codec.encode(k)));
      for await (const record of this.records()) {
        if (wanted.has(this.plan.source.codec.encode(this.rows.key(record)))) yield this.rows.row(record, true);
      }
      return;
    }
    const found = await Promise.all(
      keys.map(async (key) => {
        try {
          const response = await this.client.request({ method: 'GET', path: fillPath(get.path, key), query: Object.fromEntries(get.query) });
          return this.rows.row(response.body, true);
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
      }),
    );
    for (const row of found) if (row) yield row;
  }

  async newestCursor(): Promise<Watermark | undefined> {
    if (!this.plan.source.updatedAt) return undefined;
    if (this.memory.newest) return this.memory.newest;
    let newest: Watermark | undefined;
    for await (const record of this.records()) newest = this.newer(newest, record);
    return newest;
  }

  async estimateRows(): Promise<number> {
    return 0;
  }

  async countChangedSince(watermark: Watermark | undefined, cap: number): Promise<number> {
    let count = 0;
    for await (const _row of this.changedSince(watermark)) if (++count >= cap) break;
    return count;
  }
}
