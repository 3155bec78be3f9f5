import type { FileSource } from '../../api/files.js';
import { FILE_POSITION_COLUMN } from '../../api/files.js';
import type { ClosureSource } from '../../engine/closure.js';
import type { ClosureGraph } from '../../engine/closure-plan.js';
import type { ColumnInfo, ConnectorCapabilities, Row, Session, SideReader, SideSpec, TableInfo, TableReader, TableWriter } from '../../engine/connector.js';
import type { EntityPlan } from '../../engine/plan.js';
import { ConfigError } from '../../util/errors.js';
import { WithoutUnitOfWork } from '../no-unit-of-work.js';
import { FilesClosureSource } from './closure.js';
import type { CsvDialect } from './parse.js';
import { FilesReader, type EntityFiles } from './reader.js';
import { FilesSideReader, type StagedSideRow } from './side-reader.js';
import type { StagedRows } from '../../store/staged-rows.js';
import type { FileSideRecords } from '../../store/file-side-records.js';
import type { SourceFileRecord } from '../../store/source-files.js';
import type { ReadyFile } from './inventory.js';

export const FILES_CAPABILITIES: ConnectorCapabilities = {
  // Files come in the partner's order: Full runs stage keys and hashes in the state DB and join there.
  orderedScan: false,
  transactions: false,
  sharedSnapshot: false,
  generatedKeys: 'drawn',
  changeFeed: 'poll',
  // Partner files are never written: no writer, and a two-way flow plans no write to this side.
  readOnly: true,
};

/** One entity of a files source, by the table name its entity gives. */
export interface FileEntity {
  entity: string;
  file: FileSource;
  dialect: CsvDialect;
  files: EntityFiles;
  /** The source columns the entity's spec names (keys, fields, match, conditions). */
  referenced: string[];
  /** The entity's rows as a two-way side, staged by key once per run by `fill` (then looked up by key). */
  sideRows(fill: (stage: StagedRows<StagedSideRow>) => Promise<void>): Promise<StagedRows<StagedSideRow>>;
  /** A Delta entity's records as a two-way side (kept in the state DB across runs), brought up to date by `fill` once per run. */
  sideRecords(fill: (records: FileSideRecords<StagedSideRow>) => Promise<void>): Promise<FileSideRecords<StagedSideRow>>;
  /** The entity's files recorded imported, in order. */
  imported(): Promise<SourceFileRecord[]>;
}

/**
 * A pending CSV file whose header lacks a column the spec reads would give null for it on every line
 * (over the target's values): the run is refused before anything is applied, naming the file.
 */
function requireColumns(entity: FileEntity, pending: ReadyFile[]): void {
  for (const file of pending) {
    const named = file.columns;
    if (!named) continue;
    const read = [...entity.referenced, ...(entity.file.deletedWhen ? [entity.file.deletedWhen.column] : [])];
    const lacking = [...new Set(read)].filter((c) => !named.includes(c));
    if (lacking.length === 0) continue;
    throw new ConfigError(
      `entity ${entity.entity}: file ${file.record.name} has no column ${lacking.map((c) => `"${c}"`).join(', ')} in its header (it names ${named.map((c) => `"${c}"`).join(', ')}), which the spec reads; nothing was applied`,
    );
  }
}

function column(name: string, typeName: string): ColumnInfo {
  return { name, sqlType: typeName, typeName, notNull: false, generated: false, defaultExpr: null, identity: '' };
}

const TYPE_NAMES: Record<string, string> = { Integer: 'int8', Decimal: 'numeric', Boolean: 'bool', Date: 'date', Timestamp: 'timestamptz', Text: 'text' };

/** A read-only session on partner files: every write is refused (the validator refuses such flows first). */
export class FilesSession extends WithoutUnitOfWork implements Session {
  readonly capabilities = FILES_CAPABILITIES;

  constructor(
    private readonly entities: Map<string, FileEntity>,
    private readonly release: () => Promise<void>,
  ) {
    super();
  }

  private entityOf(table: string): FileEntity {
    const found = this.entities.get(table);
    if (!found) throw new ConfigError(`no entity of the files source reads "${table}"`);
    return found;
  }

  /**
   * Columns: the declared ones and those the file a run reads names (CSV header row, first JSON
   * object); plus the position cursor. A CSV header names the file's columns for every line, so a
   * column the spec names and the header lacks is refused. A JSON object may leave any key out (an
   * absent key reads as null, like `null`; a key part absent rejects that line as a missing key), so
   * a JSON Lines entity always has the columns the spec names, whatever its first object holds.
   */
  async readCatalog(_namespace: string, tables: string[]): Promise<Map<string, TableInfo>> {
    const catalog = new Map<string, TableInfo>();
    for (const table of tables) {
      const entity = this.entities.get(table);
      if (!entity) continue;
      const declared = new Map((entity.file.columns ?? []).map((c) => [c.name, TYPE_NAMES[c.type ?? 'Text']!]));
      let names = [...declared.keys()];
      const format = entity.file.format ?? 'Csv';
      if (format === 'JsonLines' || entity.dialect.header) {
        const pending = await entity.files.pending();
        const sample = pending[pending.length - 1];
        // With no new file, the columns the spec names: the newest file was checked when it was
        // imported, and reading its header again would download it (a run without news lists only).
        if (format === 'Csv') requireColumns(entity, pending);
        const given = sample?.columns ?? entity.referenced;
        names = [...new Set([...given, ...(format === 'JsonLines' ? entity.referenced : []), ...names])];
      }
      if (names.length === 0) {
        throw new ConfigError(`entity ${entity.entity}: no file matching "${entity.file.pattern}" to read the columns from, and no columns declared`);
      }
      const columns = new Map(names.map((n) => [n, column(n, declared.get(n) ?? 'text')]));
      columns.set(FILE_POSITION_COLUMN, column(FILE_POSITION_COLUMN, 'text'));
      catalog.set(table, { schema: '', table, columns });
    }
    return catalog;
  }

  reader(plan: EntityPlan): TableReader {
    const entity = this.entityOf(plan.source.table);
    return new FilesReader(plan, entity.file, entity.dialect, entity.files);
  }

  writer(plan: EntityPlan): TableWriter {
    throw new ConfigError(`entity ${plan.name}: a files source is read-only; Ferry never writes to it`);
  }

  sideReader(side: SideSpec): SideReader {
    const entity = this.entityOf(side.reader.source.table);
    return new FilesSideReader(side, entity);
  }

  closureSource(plans: Map<string, EntityPlan>, graph: ClosureGraph): ClosureSource {
    return new FilesClosureSource(plans, graph, (table) => this.entityOf(table));
  }

  async prefetch(requests: { plan: EntityPlan; keys: string[][] }[]): Promise<Row[][]> {
    const out: Row[][] = [];
    for (const { plan, keys } of requests) {
      const rows: Row[] = [];
      for await (const row of this.reader(plan).byKeys(keys)) rows.push(row);
      out.push(rows);
    }
    return out;
  }

  close(): Promise<void> {
    return this.release();
  }
}
