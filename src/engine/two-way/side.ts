import type { KeyCodec } from '../keys.js';
import type { EntityPlan, FieldPlan } from '../plan.js';
import { problemReason, rowProblem, type Row, type Session, type SideReader, type TableWriter, type Watermark } from '../connector.js';
import { sideHash } from './archived-hash.js';
import type { SideName, SideRow } from './types.js';

/**
 * One system of a two-way entity: how to read its rows and how to write them. `reader` is the plan
 * in which this side is the source (its conditions, transforms towards the other side), `writer`
 * the plan in which it is the target (its key defaults, archive column, column types). Both sides
 * are written with the same TargetTable the one-way engine uses.
 */
export class Side {
  readonly reader: EntityPlan;
  readonly writer: EntityPlan;
  /** Field mappings in mapping order, as seen from this side. */
  readonly mappings: FieldPlan[];

  constructor(
    readonly name: SideName,
    plan: EntityPlan,
  ) {
    const reverse = plan.reverse!;
    this.reader = name === 'source' ? plan : reverse;
    this.writer = name === 'source' ? reverse : plan;
    this.mappings = [...this.reader.keyFields, ...this.reader.fields].sort((a, b) => a.mapping - b.mapping);
  }

  get codec(): KeyCodec {
    return this.reader.source.codec;
  }

  get keys(): string[] {
    return this.reader.source.keys;
  }

  get updatedAt(): string | undefined {
    return this.reader.source.updatedAt;
  }

  table(session: Session): TableWriter {
    return session.writer(this.writer);
  }

  private read(session: Session): SideReader {
    return session.sideReader({ reader: this.reader, writer: this.writer, mappings: this.mappings });
  }

  parse(row: Row): SideRow {
    const width = this.keys.length;
    const n = this.mappings.length;
    const first = width + 5;
    const keyParts = row.slice(0, width) as string[];
    const modified = row[width + 1];
    const problem = rowProblem(row);
    const archived = row[width + 4] === 't';
    return {
      key: this.codec.encode(keyParts)!,
      keyParts,
      cursor: row[width],
      modifiedAt: modified === null ? null : Number(modified),
      hash: sideHash(row[width + 2]!, archived),
      inScope: row[width + 3] === 't',
      archived,
      raw: row.slice(first, first + n),
      out: row.slice(first + n, first + 2 * n),
      match: row.slice(first + 2 * n),
      // A value the connector could not read as meant (e.g. not UTF-8) is never written to the other side.
      ...(problem ? { untranslatable: problemReason(problem) } : {}),
    };
  }

  /** Current rows for these encoded keys (missing rows are absent). */
  async rowsByKeys(session: Session, encodedKeys: Iterable<string>): Promise<Map<string, SideRow>> {
    const wanted = new Set(encodedKeys);
    const out = new Map<string, SideRow>();
    if (wanted.size === 0) return out;
    for (const raw of await this.read(session).rowsByKeys([...wanted].map((k) => this.codec.decode(k)))) {
      const row = this.parse(raw);
      // Systems whose collations fold case or pad spaces may return near-equal keys: keep exact ones.
      if (wanted.has(row.key)) out.set(row.key, row);
    }
    return out;
  }

  /** `[...keys, hash, archived]` of every row in encoded key order (Full runs). */
  streamHashes(session: Session): AsyncIterable<Row> {
    return this.read(session).streamHashes();
  }

  /** Rows after a watermark in tie-safe `(updatedAt, key)` order (Incremental runs). */
  streamChanged(session: Session, watermark: Watermark | undefined): AsyncIterable<Row> {
    return this.read(session).changedSince(watermark);
  }

  /** The newest `(updatedAt, key)`: where the next Incremental run starts after a Full run. */
  newestCursor(session: Session): Promise<Watermark | undefined> {
    return this.updatedAt ? this.read(session).newestCursor() : Promise.resolve(undefined);
  }
}

/** Watermark name of a side: the source keeps the entity's own name (shared with one-way runs). */
export function watermarkName(entity: string, side: 'source' | 'target'): string {
  return side === 'source' ? entity : `${entity}:target`;
}
