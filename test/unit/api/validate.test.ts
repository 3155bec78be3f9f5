import { describe, expect, it } from 'vitest';
import {
  checkManifestSchema,
  findDependencyCycles,
  formatValidationErrors,
  validateExportTarget,
  validateManifests,
  validateSyncFlow,
  validateSyncJob,
  type ExportTarget,
  type SyncFlow,
  type SyncJob,
  type TableCatalog,
  type ValidationError,
} from '../../../src/api/index.js';

function baseFlow(): SyncFlow {
  return {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'SyncFlow',
    metadata: { name: 'association' },
    spec: {
      direction: 'TwoWay',
      source: { postgres: { secretRef: { name: 'source-db' } } },
      target: { postgres: { secretRef: { name: 'target-db' } } },
      entities: [
        {
          name: 'firms',
          source: { table: 'firms', keys: ['id'], updatedAt: 'updated_at' },
          target: { table: 'companies', keys: ['id'], updatedAt: 'modified_at' },
          fields: [{ source: 'name', target: 'name' }],
        },
        {
          name: 'people',
          source: { table: 'people', keys: ['id'], updatedAt: 'updated_at' },
          target: { table: 'contacts', keys: ['id'], updatedAt: 'modified_at' },
          fields: [
            { source: 'first_name', target: 'given_name' },
            { source: 'firm_id', target: 'company_id', lookup: 'firms' },
          ],
          requires: ['firms'],
        },
      ],
      scopes: [{ name: 'people_only', entities: ['people'] }],
      schedules: [{ name: 'nightly', cron: '0 2 * * *', mode: 'Full' }],
    },
  };
}

type FlowCase = [name: string, mutate: (flow: SyncFlow) => void, expected: [path: string, fragment: string][]];

const people = (f: SyncFlow) => f.spec.entities[1];
const firms = (f: SyncFlow) => f.spec.entities[0];

const flowCases: FlowCase[] = [
  ['a valid flow', () => {}, []],
  ['duplicate entity names', (f) => f.spec.entities.push(structuredClone(firms(f))), [['spec.entities[2].name', 'duplicate entity name "firms" (also at spec.entities[0])']]],
  ['unknown requires', (f) => people(f).requires!.push('companys'), [['spec.entities[1].requires[1]', 'unknown entity "companys"']]],
  ['requires itself', (f) => people(f).requires!.push('people'), [['spec.entities[1].requires[1]', 'an entity cannot require itself']]],
  ['duplicate requires', (f) => people(f).requires!.push('firms'), [['spec.entities[1].requires[1]', 'duplicate entity "firms"']]],
  ['unknown related entity', (f) => (firms(f).related = [{ entity: 'staff' }]), [['spec.entities[0].related[0].entity', 'unknown entity "staff"']]],
  ['unknown lookup', (f) => (people(f).fields[1].lookup = 'firm'), [['spec.entities[1].fields[1].lookup', 'unknown entity "firm"']]],
  ['lookup missing from requires', (f) => (people(f).requires = []), [['spec.entities[1].fields[1].lookup', 'entity "firms" must be listed in requires']]],
  ['lookup of a composite key', (f) => firms(f).source.keys.push('branch'), [['spec.entities[1].fields[1].lookup', 'composite key']]],
  ['a self lookup is not a cycle', (f) => firms(f).fields.push({ source: 'parent_id', target: 'parent_id', lookup: 'firms' }), []],
  [
    'dependency cycle',
    (f) => (firms(f).requires = ['people']),
    [['spec.entities[0]', 'dependency cycle: firms -> people -> firms']],
  ],
  ['duplicate key column', (f) => firms(f).target.keys.push('id'), [['spec.entities[0].target.keys[1]', 'duplicate key column "id"']]],
  [
    'target column mapped twice',
    (f) => people(f).fields.push({ source: 'nickname', target: 'given_name' }),
    [['spec.entities[1].fields[2].target', 'column "given_name" is already mapped by fields[0]']],
  ],
  [
    'NotIn without values',
    (f) => (firms(f).source.conditions = [{ field: 'status', operator: 'NotIn' }]),
    [['spec.entities[0].source.conditions[0].values', 'operator NotIn needs at least one value']],
  ],
  [
    'IsNull with values',
    (f) => (firms(f).source.conditions = [{ field: 'deleted_at', operator: 'IsNull', values: ['x'] }]),
    [['spec.entities[0].source.conditions[0].values', 'not used with operator IsNull']],
  ],
  [
    'OneWay flow writing to the source',
    (f) => {
      f.spec.direction = 'OneWay';
      firms(f).actions = ['link', 'createInSource'];
    },
    [['spec.entities[0].actions[1]', 'action "createInSource" writes to the source']],
  ],
  [
    'archive action without archive column',
    (f) => (firms(f).actions = ['link', 'archiveInTarget']),
    [['spec.entities[0].actions[1]', 'needs target.archive']],
  ],
  ['duplicate scope', (f) => f.spec.scopes!.push({ name: 'people_only', entities: ['firms'] }), [['spec.scopes[1].name', 'duplicate scope name']]],
  ['unknown scope entity', (f) => f.spec.scopes!.push({ name: 'events', entities: ['events'], exclude: ['tickets'] }), [
    ['spec.scopes[1].entities[0]', 'unknown entity "events"'],
    ['spec.scopes[1].exclude[0]', 'unknown entity "tickets"'],
  ]],
  ['duplicate schedule', (f) => f.spec.schedules!.push({ name: 'nightly', cron: '0 3 * * *', mode: 'Full' }), [['spec.schedules[1].name', 'duplicate schedule name']]],
  ['invalid cron', (f) => (f.spec.schedules![0].cron = '0 25 * * *'), [['spec.schedules[0].cron', 'invalid cron "0 25 * * *"']]],
  ['cron that never fires', (f) => (f.spec.schedules![0].cron = '0 0 31 2 *'), [['spec.schedules[0].cron', 'never fires']]],
  ['unknown time zone', (f) => (f.spec.schedules![0].timeZone = 'Mars/Olympus'), [['spec.schedules[0].timeZone', 'unknown time zone "Mars/Olympus"']]],
  ['time zone in the wrong case', (f) => (f.spec.schedules![0].timeZone = 'europe/berlin'), [['spec.schedules[0].timeZone', 'must be written "Europe/Berlin"']]],
  ['time zone alias', (f) => (f.spec.schedules![0].timeZone = 'US/Eastern'), []],
  ['Scope schedule without scope', (f) => (f.spec.schedules![0].mode = 'Scope'), [['spec.schedules[0].scope', 'scope is required when mode is Scope']]],
  ['scope on a Full schedule', (f) => (f.spec.schedules![0].scope = 'people_only'), [['spec.schedules[0].scope', 'only used with mode Scope']]],
  [
    'Incremental schedule without cursors (TwoWay needs both sides)',
    (f) => {
      f.spec.schedules![0].mode = 'Incremental';
      delete firms(f).source.updatedAt;
      delete people(f).target.updatedAt;
    },
    [
      ['spec.entities[0].source.updatedAt', 'required by the Incremental schedule "nightly"'],
      ['spec.entities[1].target.updatedAt', 'required by the Incremental schedule "nightly"'],
    ],
  ],
  [
    'both postgres and export targets',
    (f) => (f.spec.target.export = { format: 'Csv', mode: 'Snapshot', targets: [{ name: 'sftp' }] }),
    [
      ['spec.target', 'exactly one of postgres, mysql, http or export'],
      ['spec.direction', 'must be OneWay when the target is an export'],
    ],
  ],
  ['no entities', (f) => ((f.spec.entities = []), (f.spec.scopes = [])), [['spec.entities', 'at least one entity is required']]],
  ['duplicate admin e-mail', (f) => (f.spec.notifications = { adminEmails: ['a@example.org', 'a@example.org'] }), [['spec.notifications.adminEmails[1]', 'duplicate e-mail address']]],
];

function exportFlow(): SyncFlow {
  const flow = baseFlow();
  flow.spec.direction = 'OneWay';
  flow.spec.entities = [];
  flow.spec.scopes = [];
  flow.spec.target = { export: { format: 'JsonLines', mode: 'Snapshot', query: 'SELECT 1', targets: [{ name: 'partner' }] } };
  return flow;
}

const exportCases: FlowCase[] = [
  ['a valid query export', () => {}, []],
  ['query and entities', (f) => (f.spec.entities = baseFlow().spec.entities.slice(0, 1)), [['spec.target.export.query', 'either export.query or entities']]],
  ['neither query nor entities', (f) => delete f.spec.target.export!.query, [['spec.entities', 'an export needs entities or export.query']]],
  ['no targets', (f) => (f.spec.target.export!.targets = []), [['spec.target.export.targets', 'at least one ExportTarget']]],
  ['duplicate targets', (f) => f.spec.target.export!.targets.push({ name: 'partner' }), [['spec.target.export.targets[1].name', 'duplicate ExportTarget "partner"']]],
  ['unknown placeholder', (f) => (f.spec.target.export!.fileNameTemplate = '{flow}-{day}.csv'), [['spec.target.export.fileNameTemplate', 'unknown placeholder {day}']]],
  ['bad export time zone', (f) => (f.spec.target.export!.timeZone = 'Berlin'), [['spec.target.export.timeZone', 'unknown time zone']]],
];

const summary = (errors: ValidationError[]) => errors.map((e) => [e.path, e.message]);

function expectErrors(errors: ValidationError[], expected: [string, string][]) {
  const report = formatValidationErrors(errors, 'flow');
  expect(errors.map((e) => e.path), report).toEqual(expected.map(([path]) => path));
  errors.forEach((e, i) => expect(e.message, report).toContain(expected[i][1]));
}

describe('validateSyncFlow', () => {
  it.each(flowCases)('%s', (_name, mutate, expected) => {
    const flow = baseFlow();
    mutate(flow);
    expect(checkManifestSchema(flow), 'the case must pass the schema check').toEqual([]);
    expectErrors(validateSyncFlow(flow), expected);
  });

  it.each(exportCases)('export: %s', (_name, mutate, expected) => {
    const flow = exportFlow();
    mutate(flow);
    expectErrors(validateSyncFlow(flow), expected);
  });

  it('reports every problem, not just the first', () => {
    const flow = baseFlow();
    people(flow).requires = ['nobody'];
    flow.spec.schedules![0].cron = 'nope';
    expect(validateSyncFlow(flow).length).toBe(3);
  });
});

describe('validateSyncFlow with a catalog', () => {
  const tables: Record<string, Record<string, string[]>> = {
    source: { firms: ['id', 'name', 'updated_at'], people: ['id', 'first_name', 'firm_id', 'updated_at'] },
    target: { companies: ['id', 'name', 'modified_at'], contacts: ['id', 'given_nam', 'company_id', 'modified_at'] },
  };
  const catalog: TableCatalog = { tableColumns: (side, table) => tables[side][table] };

  it('reports missing columns and tables with their field paths', () => {
    const flow = baseFlow();
    firms(flow).target.table = 'company';
    firms(flow).source.conditions = [{ field: 'status', values: ['active'] }];
    expect(summary(validateSyncFlow(flow, { catalog }))).toEqual([
      ['spec.entities[0].source.conditions[0].field', 'column "status" does not exist in table "firms"'],
      ['spec.entities[0].target.table', 'table "company" does not exist in the target database'],
      ['spec.entities[1].fields[0].target', 'column "given_name" does not exist in table "contacts"'],
    ]);
  });

  it('skips the target side of an export', () => {
    const flow = exportFlow();
    delete flow.spec.target.export!.query;
    flow.spec.entities = baseFlow().spec.entities.slice(0, 1);
    expect(validateSyncFlow(flow, { catalog })).toEqual([]);
  });
});

function job(spec: Partial<SyncJob['spec']>): SyncJob {
  return {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'SyncJob',
    metadata: { name: 'run' },
    spec: { flowRef: { name: 'association' }, mode: 'Full', ...spec },
  };
}

describe('validateSyncJob', () => {
  const exporting = exportFlow();
  exporting.metadata.name = 'export';
  const flows = [baseFlow(), exporting];
  const cases: [string, SyncJob, [string, string][]][] = [
    ['a valid Full run', job({}), []],
    ['unknown flow', job({ flowRef: { name: 'nope' } }), [['spec.flowRef.name', 'SyncFlow "nope" not found']]],
    ['Scope without scope', job({ mode: 'Scope' }), [['spec.scope', 'required when mode is Scope']]],
    ['unknown scope', job({ mode: 'Scope', scope: 'events' }), [['spec.scope', 'unknown scope "events" in SyncFlow "association"']]],
    ['scope with mode Full', job({ scope: 'people_only' }), [['spec.scope', 'only used with mode Scope']]],
    ['Record without record', job({ mode: 'Record' }), [['spec.record', 'required when mode is Record']]],
    ['unknown record entity', job({ mode: 'Record', record: { entity: 'staff', key: '1' } }), [['spec.record.entity', 'unknown entity "staff"']]],
    ['Resolve without resolutions', job({ mode: 'Resolve' }), [['spec.resolutions', 'required when mode is Resolve']]],
    [
      'resolution without keys on an unknown entity',
      job({ mode: 'Resolve', resolutions: [{ entity: 'staff', action: 'KeepSource' }] }),
      [
        ['spec.resolutions[0]', 'sourceKey or targetKey is required'],
        ['spec.resolutions[0].entity', 'unknown entity "staff"'],
      ],
    ],
    ['Retransfer without retransfer', job({ mode: 'Retransfer', flowRef: { name: 'export' } }), [['spec.retransfer', 'required when mode is Retransfer']]],
    ['Retransfer of a sync flow', job({ mode: 'Retransfer', retransfer: { runId: 'r1' } }), [['spec.mode', 'needs a SyncFlow with an export target']]],
    [
      'Retransfer to a foreign target',
      job({ mode: 'Retransfer', flowRef: { name: 'export' }, retransfer: { runId: 'r1', targets: ['other'] } }),
      [['spec.retransfer.targets[0]', '"other" is not an export target of SyncFlow "export"']],
    ],
    ['reimport on a flow without a files source', job({ reimport: ['people.csv'] }), [['spec.reimport', 'SyncFlow "association" has no files source']]],
    // A dry run of a re-import reports what it would do; files are recorded imported only at a real run's end.
    ['reimport in a dry run', job({ reimport: ['people.csv'], dryRun: true }), [['spec.reimport', 'SyncFlow "association" has no files source']]],
    [
      'reimport with mode Record',
      job({ mode: 'Record', record: { entity: 'firms', key: '1' }, reimport: ['people.csv'] }),
      [
        ['spec.reimport', 'only used with mode Full or Incremental, not Record'],
        ['spec.reimport', 'has no files source'],
      ],
    ],
  ];
  it.each(cases)('%s', (_name, syncJob, expected) => {
    expect(checkManifestSchema(syncJob).filter((e) => !e.path.startsWith('spec.resolutions'))).toEqual([]);
    expectErrors(validateSyncJob(syncJob, flows), expected);
  });

  it('Incremental needs cursors on the flow', () => {
    const flow = baseFlow();
    delete firms(flow).source.updatedAt;
    expectErrors(validateSyncJob(job({ mode: 'Incremental' }), [flow]), [['spec.mode', 'missing: firms.source']]);
  });
});

describe('validateExportTarget', () => {
  const target = (spec: ExportTarget['spec']): ExportTarget => ({
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'ExportTarget',
    metadata: { name: 'partner' },
    spec,
  });
  const credentials = { name: 'creds' };
  const cases: [string, ExportTarget, [string, string][]][] = [
    ['pinned SFTP', target({ protocol: 'SFTP', host: 'h', credentialsSecretRef: credentials, sftp: { hostKey: 'ssh-ed25519 AAAA' } }), []],
    ['unpinned SFTP', target({ protocol: 'SFTP', host: 'h', credentialsSecretRef: credentials }), [['spec.sftp', 'pin the server host key']]],
    ['FTP without insecure', target({ protocol: 'FTP', host: 'h', credentialsSecretRef: credentials }), [['spec.insecure', 'set insecure: true']]],
    ['FTP with insecure', target({ protocol: 'FTP', host: 'h', credentialsSecretRef: credentials, insecure: true }), []],
    [
      'sftp options on FTPS',
      target({ protocol: 'FTPS', host: 'h', credentialsSecretRef: credentials, sftp: { hostKey: 'k' } }),
      [['spec.sftp', 'only used with protocol SFTP']],
    ],
    [
      'ftps options on SFTP',
      target({ protocol: 'SFTP', host: 'h', credentialsSecretRef: credentials, insecure: true, ftps: { insecureSkipVerify: true } }),
      [['spec.ftps', 'only used with protocols FTPS']],
    ],
  ];
  it.each(cases)('%s', (_name, exportTarget, expected) => expectErrors(validateExportTarget(exportTarget), expected));
});

describe('validateManifests', () => {
  it('checks the schema first and skips semantic rules for broken manifests', () => {
    const flow = baseFlow() as unknown as Record<string, any>;
    flow.spec.entites = flow.spec.entities;
    delete flow.spec.entities;
    flow.spec.schedules[0].cron = 'nope';
    const loaded = { flows: [flow as SyncFlow], jobs: [job({})], targets: [], secrets: [], errors: [] };
    expect(summary(validateManifests(loaded))).toEqual([['spec.entites', 'unknown field "entites" (did you mean "entities"?)']]);
  });

  it('reports duplicate objects', () => {
    const loaded = { flows: [baseFlow(), baseFlow()], jobs: [], targets: [], secrets: [], errors: [] };
    expect(summary(validateManifests(loaded))).toEqual([['metadata.name', 'duplicate SyncFlow "association"']]);
  });

  it('passes a per-flow catalog', () => {
    const loaded = { flows: [baseFlow()], jobs: [], targets: [], secrets: [], errors: [] };
    const errors = validateManifests(loaded, { catalog: () => ({ tableColumns: () => undefined }) });
    expect(errors.map((e) => e.path)).toEqual([
      'spec.entities[0].source.table',
      'spec.entities[0].target.table',
      'spec.entities[1].source.table',
      'spec.entities[1].target.table',
    ]);
  });
});

describe('findDependencyCycles', () => {
  const entity = (name: string, requires: string[]) => ({ name, requires, fields: [] });
  it('reports one shortest cycle per group, starting at the earliest entity', () => {
    expect(
      findDependencyCycles([
        entity('a', []),
        entity('b', ['d']),
        entity('c', ['b']),
        entity('d', ['c', 'b']),
        entity('e', ['f']),
        entity('f', ['e']),
      ]),
    ).toEqual([
      ['b', 'd', 'b'],
      ['e', 'f', 'e'],
    ]);
  });
});
