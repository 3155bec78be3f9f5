import { describe, expect, it } from 'vitest';
import {
  allCrds,
  checkManifestSchema,
  databaseOf,
  validateSyncFlow,
  withFlowDefaults,
  type JSONSchemaProps,
  type SyncFlow,
  type SyncFlowSpec,
} from '../../../src/api/index.js';

const postgres = { secretRef: { name: 'association-db' } };
const mysql = { secretRef: { name: 'website-db' } };
const exportSettings: NonNullable<SyncFlowSpec['target']['export']> = {
  format: 'Csv',
  mode: 'Snapshot',
  targets: [{ name: 'partner' }],
};

function flow(source: SyncFlowSpec['source'], target: SyncFlowSpec['target'], direction: SyncFlowSpec['direction'] = 'OneWay'): SyncFlow {
  return {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'SyncFlow',
    metadata: { name: 'website' },
    spec: {
      direction,
      source,
      target,
      entities: [
        {
          name: 'people',
          source: { table: 'people', keys: ['id'], updatedAt: 'updated_at' },
          target: { table: 'wp_members', keys: ['ID'], updatedAt: 'modified' },
          fields: [{ source: 'email', target: 'user_email' }],
        },
      ],
    },
  };
}

const summary = (f: SyncFlow) => validateSyncFlow(f).map((e) => `${e.path}: ${e.message}`);

describe('source and target kinds', () => {
  it.each([
    ['postgres -> mysql', { postgres }, { mysql }, 'OneWay'],
    ['mysql -> postgres', { mysql }, { postgres }, 'OneWay'],
    ['mysql -> mysql, TwoWay', { mysql }, { mysql: { ...mysql, database: 'wordpress' } }, 'TwoWay'],
    ['postgres <-> mysql, TwoWay', { postgres }, { mysql }, 'TwoWay'],
  ] as const)('accepts %s', (_name, source, target, direction) => {
    const f = flow(source, target, direction);
    expect(checkManifestSchema(f)).toEqual([]);
    expect(summary(f)).toEqual([]);
  });

  it('accepts an export from a MariaDB source in Snapshot and Changes mode', () => {
    for (const mode of ['Snapshot', 'Changes'] as const) {
      const f = flow({ mysql }, { export: { ...exportSettings, mode } }, 'OneWay');
      expect(checkManifestSchema(f)).toEqual([]);
      expect(summary(f)).toEqual([]);
    }
  });

  it('refuses an Events export from a MariaDB source with the field path (the change log is PostgreSQL only)', () => {
    const f = flow({ mysql }, { export: { ...exportSettings, mode: 'Events' } }, 'OneWay');
    expect(checkManifestSchema(f)).toEqual([]);
    expect(summary(f)).toEqual([
      'spec.target.export.mode: Events exports need a change log, which Ferry keeps on PostgreSQL sources only; use Changes or Snapshot with a mysql source',
    ]);
    expect(summary(flow({ postgres }, { export: { ...exportSettings, mode: 'Events' } }, 'OneWay'))).toEqual([]);
  });

  it('rejects a source with both or no database, naming spec.source', () => {
    expect(summary(flow({ postgres, mysql }, { postgres }))).toEqual(['spec.source: exactly one of postgres, mysql, http or files must be set']);
    expect(summary(flow({}, { postgres }))).toEqual(['spec.source: exactly one of postgres, mysql, http or files must be set']);
  });

  it('rejects a target with two kinds or none, naming spec.target', () => {
    const message = 'spec.target: exactly one of postgres, mysql, http or export must be set';
    expect(summary(flow({ postgres }, { postgres, mysql }))).toEqual([message]);
    expect(summary(flow({ postgres }, { mysql, export: exportSettings }))).toEqual([message]);
    expect(summary(flow({ postgres }, {}))).toEqual([message]);
  });

  it('rejects a MySQL database name that is not a plain identifier', () => {
    const f = flow({ mysql: { ...mysql, database: 'word-press' } }, { postgres });
    expect(checkManifestSchema(f).map((e) => e.path)).toEqual(['spec.source.mysql.database']);
  });
});

describe('the one-of CEL rules', () => {
  const spec = allCrds().find((c) => c.spec.names.kind === 'SyncFlow')!.spec.versions[0].schema.openAPIV3Schema.properties!.spec;
  const rulesOf = (node: JSONSchemaProps) => (node['x-kubernetes-validations'] as { rule: string; message: string }[] | undefined) ?? [];

  it('are in the CRD with the messages the local validator uses', () => {
    expect(rulesOf(spec.properties!.source)).toEqual([
      { rule: '(has(self.postgres) ? 1 : 0) + (has(self.mysql) ? 1 : 0) + (has(self.http) ? 1 : 0) + (has(self.files) ? 1 : 0) == 1', message: 'exactly one of postgres, mysql, http or files must be set' },
    ]);
    expect(rulesOf(spec.properties!.target).map((r) => r.message)).toEqual(['exactly one of postgres, mysql, http or export must be set']);
  });

  /** Evaluates a rule made only of has() tests, ternaries, + and ==, which read the same in CEL and JavaScript. */
  function celAccepts(rule: string, present: Set<string>): boolean {
    const expression = rule.replace(/has\(self\.(\w+)\)/g, (_all, field: string) => String(present.has(field)));
    expect(expression).toMatch(/^[()\s?:+=01a-z]+$/);
    return new Function(`return ${expression};`)() as boolean;
  }

  const subsets = (kinds: string[]): string[][] => kinds.reduce<string[][]>((all, kind) => [...all, ...all.map((s) => [...s, kind])], [[]]);

  it.each([
    ['source', ['postgres', 'mysql']],
    ['target', ['postgres', 'mysql', 'export']],
  ] as const)('agree with the local validator on every combination of %s kinds', (side, kinds) => {
    const [rule] = rulesOf(spec.properties![side]);
    for (const present of subsets([...kinds])) {
      const system: SyncFlowSpec['target'] = {
        ...(present.includes('postgres') ? { postgres } : {}),
        ...(present.includes('mysql') ? { mysql } : {}),
        ...(present.includes('export') ? { export: exportSettings } : {}),
      };
      const f = flow(side === 'source' ? system : { postgres }, side === 'target' ? system : { postgres });
      const reported = validateSyncFlow(f).some((e) => e.path === `spec.${side}`);
      expect(celAccepts(rule.rule, new Set(present)), present.join('+') || 'none').toBe(!reported);
    }
  });
});

describe('databaseOf', () => {
  it('fills the defaults and names the field', () => {
    expect(databaseOf({ postgres }, 'source')).toEqual({
      kind: 'postgres',
      secretRef: { name: 'association-db', key: 'url' },
      namespace: 'public',
      path: 'spec.source.postgres',
    });
    expect(databaseOf({ mysql }, 'target')).toEqual({
      kind: 'mysql',
      secretRef: { name: 'website-db', key: 'url' },
      namespace: '',
      path: 'spec.target.mysql',
    });
  });

  it('keeps explicit values', () => {
    const endpoint = { secretRef: { name: 'website-db', key: 'dsn' }, database: 'wordpress' };
    expect(databaseOf({ mysql: endpoint }, 'source')).toMatchObject({ secretRef: { key: 'dsn' }, namespace: 'wordpress' });
    expect(databaseOf({ postgres: { ...postgres, schema: 'crm' } }, 'target')).toMatchObject({ namespace: 'crm' });
  });

  it('is undefined for an export target', () => {
    expect(databaseOf({ export: exportSettings }, 'target')).toBeUndefined();
  });

  it('reads a defaulted spec the same way', () => {
    const spec = withFlowDefaults(flow({ mysql }, { postgres }).spec);
    expect(spec.source).toEqual({ mysql: { secretRef: { name: 'website-db', key: 'url' } } });
    expect(databaseOf(spec.source, 'source')).toEqual(databaseOf({ mysql }, 'source'));
  });
});
