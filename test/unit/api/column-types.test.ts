import { describe, expect, it } from 'vitest';
import { typeFamily, typeMismatch, type ColumnType, type TypeFamily } from '../../../src/api/column-types.js';
import { withFlowDefaults } from '../../../src/api/defaults.js';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import { catalogErrors, type TableCatalog } from '../../../src/api/validate-catalog.js';

const t = (typeName: string, sqlType: string = typeName): ColumnType => ({ typeName, sqlType });

describe('typeFamily', () => {
  const cases: [ColumnType, TypeFamily | undefined][] = [
    // PostgreSQL pg_type names
    [t('int4', 'integer'), 'integer'],
    [t('int8', 'bigint'), 'integer'],
    [t('numeric', 'numeric(10,2)'), 'decimal'],
    [t('float8', 'double precision'), 'float'],
    [t('text'), 'text'],
    [t('varchar', 'character varying(120)'), 'text'],
    [t('bool', 'boolean'), 'boolean'],
    [t('timestamptz', 'timestamp with time zone'), 'timestamp'],
    [t('date'), 'date'],
    [t('time', 'time without time zone'), 'time'],
    [t('jsonb'), 'json'],
    [t('bytea'), 'binary'],
    [t('uuid'), 'uuid'],
    [t('_int4', 'integer[]'), undefined],
    [t('interval'), undefined],
    // MySQL / MariaDB DATA_TYPE names
    [t('int', 'int(11)'), 'integer'],
    [t('bigint', 'bigint(20) unsigned'), 'integer'],
    [t('tinyint', 'tinyint(4)'), 'integer'],
    [t('tinyint', 'tinyint(1)'), 'boolean'],
    [t('tinyint', 'tinyint(1) unsigned'), 'boolean'],
    [t('decimal', 'decimal(12,2)'), 'decimal'],
    [t('varchar', 'varchar(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci'), 'text'],
    [t('longtext', 'longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin'), 'text'],
    [t('datetime', 'datetime(6)'), 'timestamp'],
    [t('timestamp'), 'timestamp'],
    [t('json'), 'json'],
    [t('blob'), 'binary'],
    [t('enum', "enum('a','b') CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"), 'text'],
    [t('set', "set('x','y')"), 'text'],
    [t('geometry'), undefined],
  ];
  it.each(cases)('%o is %s', (type, family) => {
    expect(typeFamily(type)).toBe(family);
  });
});

describe('typeMismatch(target, source)', () => {
  const flagged: [string, ColumnType, ColumnType][] = [
    ['text -> integer', t('int4'), t('text')],
    ['timestamp -> boolean', t('bool'), t('timestamptz')],
    ['json -> integer', t('int', 'int(11)'), t('jsonb')],
    ['binary -> integer', t('int8'), t('blob')],
    ['decimal -> integer', t('bigint'), t('numeric')],
    ['boolean -> integer', t('int', 'int(11)'), t('bool')],
    ['integer -> boolean', t('bool'), t('int4')],
    ['timestamp -> date', t('date'), t('datetime', 'datetime(6)')],
    ['text -> json', t('jsonb'), t('varchar')],
    ['text -> uuid', t('uuid'), t('text')],
    ['text -> timestamp', t('timestamptz'), t('varchar', 'varchar(30)')],
    ['text -> MySQL boolean', t('tinyint', 'tinyint(1)'), t('text')],
  ];
  it.each(flagged)('flags %s', (_name, target, source) => {
    expect(typeMismatch(target, source)).toBeDefined();
  });

  const fine: [string, ColumnType, ColumnType][] = [
    ['anything -> text', t('text'), t('jsonb')],
    ['integer -> MySQL text', t('longtext'), t('int8')],
    ['integer -> decimal', t('decimal', 'decimal(12,2)'), t('int4')],
    ['integer -> float', t('float8'), t('bigint')],
    ['date -> timestamp', t('datetime', 'datetime'), t('date')],
    ['timestamptz -> datetime', t('datetime', 'datetime(6)'), t('timestamptz')],
    ['int8 -> int (widths are left to the run)', t('int', 'int(11)'), t('int8')],
    ['boolean -> MySQL tinyint(1)', t('tinyint', 'tinyint(1)'), t('bool')],
    ['MySQL tinyint(1) -> boolean', t('bool'), t('tinyint', 'tinyint(1)')],
    ['MySQL tinyint(1) -> integer', t('int4'), t('tinyint', 'tinyint(1)')],
    ['integer -> MySQL tinyint(1)', t('tinyint', 'tinyint(1)'), t('int8')],
    ['json -> json', t('json'), t('jsonb')],
    ['text -> binary (its UTF-8 bytes)', t('bytea'), t('varchar')],
    ['enum -> text', t('text'), t('enum', "enum('a')")],
    ['an unjudged type', t('int4'), t('interval')],
  ];
  it.each(fine)('accepts %s', (_name, target, source) => {
    expect(typeMismatch(target, source)).toBeUndefined();
  });
});

describe('catalogErrors: mapped types', () => {
  const spec = (direction: 'OneWay' | 'TwoWay'): SyncFlowSpec => ({
    direction,
    source: { postgres: { secretRef: { name: 'src' } } },
    target: { mysql: { secretRef: { name: 'dst' } } },
    entities: [
      {
        name: 'firms',
        source: { table: 'firms', keys: ['id'] },
        target: { table: 'companies', keys: ['id'] },
        fields: [{ source: 'name', target: 'title' }],
      },
      {
        name: 'people',
        source: { table: 'people', keys: ['id'] },
        target: { table: 'contacts', keys: ['id'] },
        fields: [
          { source: 'name', target: 'full_name' },
          { source: 'firm_id', target: 'company_ref', lookup: 'firms' },
          { source: 'age_text', target: 'age' },
          { source: 'active', target: 'enabled' },
        ],
        requires: ['firms'],
      },
    ],
  });
  const types: Record<'source' | 'target', Record<string, Record<string, ColumnType>>> = {
    source: {
      firms: { id: t('int8'), name: t('text') },
      people: { id: t('int8'), name: t('text'), firm_id: t('int8'), age_text: t('text'), active: t('int4') },
    },
    target: {
      companies: { id: t('char', 'char(36)'), title: t('varchar', 'varchar(200)') },
      contacts: { id: t('bigint'), full_name: t('varchar'), company_ref: t('int', 'int(11)'), age: t('int', 'int(11)'), enabled: t('tinyint', 'tinyint(1)') },
    },
  };
  const catalogOf = (tables: typeof types): TableCatalog => ({
    tableColumns: (side, table) => Object.keys(tables[side][table] ?? {}),
    columnType: (side, table, column) => tables[side][table]?.[column],
  });
  const catalog = catalogOf(types);
  const summary = (s: SyncFlowSpec, c: TableCatalog = catalog) => catalogErrors(withFlowDefaults(s), c).map((e) => `${e.path}: ${e.message}`);

  it('names a target column that cannot hold the source values, and a lookup against the referenced target key', () => {
    expect(summary(spec('OneWay'))).toEqual([
      'spec.entities[1].fields[1].target: column "company_ref" is integer in the target database and cannot hold the text keys of entity "firms" (target column "id")',
      'spec.entities[1].fields[2].target: column "age" is integer in the target database and cannot hold the source\'s text values of "age_text"',
    ]);
  });

  it('checks the reverse direction of a TwoWay flow', () => {
    expect(summary(spec('TwoWay'))).toEqual([
      'spec.entities[1].fields[1].target: column "company_ref" is integer in the target database and cannot hold the text keys of entity "firms" (target column "id")',
      'spec.entities[1].fields[2].target: column "age" is integer in the target database and cannot hold the source\'s text values of "age_text"',
      // MySQL's tinyint(1) flag read back into the source's int4 is fine; int -> text is fine; int8 source key -> int8 firm_id is fine.
    ]);
    const reversed = spec('TwoWay');
    reversed.entities[1].fields[3] = { source: 'active', target: 'name_json' };
    const tables = structuredClone(types);
    tables.target.contacts.name_json = t('json');
    tables.source.people.active = t('bool');
    expect(summary(reversed, catalogOf(tables))).toContain(
      'spec.entities[1].fields[3].source: column "active" is boolean in the source database and cannot hold the target\'s json values of "name_json"',
    );
  });

  it('checks nothing across sides when only one database was read', () => {
    expect(summary(spec('TwoWay'), { ...catalog, sides: ['source'] })).toEqual([]);
    const missing = spec('OneWay');
    missing.entities[0].source.keys = ['firm_no'];
    expect(summary(missing, { ...catalog, sides: ['source'] })).toEqual(['spec.entities[0].source.keys[0]: column "firm_no" does not exist in table "firms"']);
  });

  it('leaves types alone when the catalog has none', () => {
    expect(summary(spec('OneWay'), { tableColumns: catalog.tableColumns })).toEqual([]);
  });
});
