import { applyValueMap, type Row, type SideReader, type SideSpec, type Watermark } from '../../engine/connector.js';
import { compareMarks, filterValue } from './cursor.js';
import { listRecords } from './pagination.js';
import { applyTransform, fieldOf, inScope, readField, TargetRows } from './records.js';
import { isNotFound, type Requester } from './requester.js';
import { fillPath, type Params, type ResolvedResource } from './resource.js';
import { parseTimestamp, storedText } from './values.js';

/**
 * Reads one API resource of a two-way flow (the rows of `SIDE_LAYOUT`). Its hash is the one the
 * resource's writer computes, so Ferry's own writes are recognised as echoes.
 */
export class HttpSideReader implements SideReader {
  private readonly writerRows: TargetRows;

  constructor(
    private readonly client: Requester,
    private readonly side: SideSpec,
    private readonly resource: ResolvedResource,
  ) {
    this.writerRows = new TargetRows(side.writer, resource);
  }

  private field(name: string) {
    return fieldOf(this.resource, name);
  }

  private key(record: unknown): string[] {
    return this.side.reader.source.keys.map((k) => readField(record, this.field(k)) ?? '');
  }

  private cursor(record: unknown): string | null {
    const updatedAt = this.side.reader.source.updatedAt;
    return updatedAt ? readField(record, this.field(updatedAt)) : null;
  }

  private epochSeconds(cursor: string | null): string | null {
    const updatedAt = this.side.reader.source.updatedAt;
    if (cursor === null || !updatedAt) return null;
    const type = this.field(updatedAt).type;
    if (type === 'timestamp' || type === 'date') return String(Math.floor(parseTimestamp(cursor).getTime() / 1000));
    return type === 'integer' || type === 'number' ? cursor : null;
  }

  private archived(record: unknown): 't' | 'f' {
    const archive = this.side.writer.target.archive;
    if (!archive) return 'f';
    const field = this.field(archive.column);
    return readField(record, field) === storedText(archive.value, field.type) ? 't' : 'f';
  }

  private row(record: unknown): Row {
    const { reader, mappings } = this.side;
    const cursor = this.cursor(record);
    const raw = mappings.map((f) => readField(record, this.field(f.source)));
    const scope = inScope((name) => readField(record, this.field(name)), reader.source.conditions);
    return [
      ...this.key(record),
      cursor,
      this.epochSeconds(cursor),
      this.writerRows.hash(record),
      scope ? 't' : 'f',
      this.archived(record),
      ...raw,
      ...raw.map((value, i) => applyValueMap(applyTransform(value, mappings[i].transform), mappings[i].valueMap)),
      ...reader.match.map((m) => readField(record, this.field(m.source))),
    ];
  }

  private async *records(extra: Params = []): AsyncGenerator<unknown> {
    for await (const page of listRecords(this.client, this.resource.list, [...this.resource.sort, ...extra])) yield* page;
  }

  async rowsByKeys(keys: string[][]): Promise<Row[]> {
    const get = this.resource.get;
    const codec = this.side.reader.source.codec;
    if (!get) {
      const wanted = new Set(keys.map((k) => codec.encode(k)));
      const out: Row[] = [];
      for await (const record of this.records()) if (wanted.has(codec.encode(this.key(record)))) out.push(this.row(record));
      return out;
    }
    const rows = await Promise.all(
      keys.map(async (key) => {
        try {
          const response = await this.client.request({ method: 'GET', path: fillPath(get.path, key), query: Object.fromEntries(get.query) });
          return this.row(response.body);
        } catch (error) {
          if (isNotFound(error)) return undefined;
          throw error;
        }
      }),
    );
    return rows.filter((r): r is Row => r !== undefined);
  }

  async *streamHashes(): AsyncGenerator<Row> {
    for await (const record of this.records()) yield [...this.key(record), this.writerRows.hash(record), this.archived(record)];
  }

  async *changedSince(watermark: Watermark | undefined): AsyncGenerator<Row> {
    const updatedAt = this.side.reader.source.updatedAt!;
    const type = this.field(updatedAt).type;
    const codec = this.side.reader.source.codec;
    const filter = this.resource.incremental;
    const value = watermark && filter ? filterValue(watermark, type, filter.boundary) : undefined;
    const extra: Params = value !== undefined ? filter!.query.map(([name, template]) => [name, template.replace(/\{cursor\}/g, value)]) : [];
    const changed: { mark: Watermark; row: Row }[] = [];
    for await (const record of this.records(extra)) {
      const cursor = this.cursor(record);
      if (cursor === null) continue;
      const mark = { cursor, key: this.key(record) };
      if (watermark && compareMarks(mark, watermark, type, codec) <= 0) continue;
      changed.push({ mark, row: this.row(record) });
    }
    changed.sort((a, b) => compareMarks(a.mark, b.mark, type, codec));
    for (const { row } of changed) yield row;
  }

  async newestCursor(): Promise<Watermark | undefined> {
    let newest: Watermark | undefined;
    for await (const row of this.changedSince(undefined)) {
      const cursor = row[this.side.reader.source.keys.length];
      if (cursor !== null) newest = { cursor, key: row.slice(0, this.side.reader.source.keys.length) as string[] };
    }
    return newest;
  }
}
