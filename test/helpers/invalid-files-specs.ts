/**
 * Invalid files sources, each one mistake in an otherwise valid SyncFlow, with the field that must be
 * named and where the refusal happens: the CRD's OpenAPI schema (the API server answers 422; Kubernetes
 * 1.20 ignores CEL, so no case may rest on a CEL rule) or the semantic validator (the controller sets
 * Stalled naming the field; `ferry validate` prints the same).
 */
import type { SyncFlow } from '../../src/api/syncflow.js';

type Spec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A valid one-way flow from an SFTP server's PGP-encrypted, signed CSV snapshots into PostgreSQL. */
export function filesFlow(name: string, namespace?: string): SyncFlow {
  return {
    apiVersion: 'ferry.dev/v1alpha1',
    kind: 'SyncFlow',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    spec: {
      direction: 'OneWay',
      source: {
        files: {
          exportTargetRef: { name: 'partner-sftp' },
          decryption: { secretRef: { name: 'partner-pgp' }, verify: { secretRef: { name: 'partner-signing-key' }, required: true } },
        },
      },
      target: { postgres: { secretRef: { name: 'target-db' } } },
      entities: [
        {
          name: 'employees',
          source: {
            table: 'employees',
            keys: ['no'],
            file: { pattern: 'employees-*.csv.gpg', contents: 'Snapshot', csv: { delimiter: ';' } },
          },
          target: { table: 'staff', keys: ['id'] },
          fields: [
            { source: 'no', target: 'employee_no' },
            { source: 'name', target: 'name' },
          ],
          match: [{ source: 'no', target: 'employee_no' }],
          actions: ['link', 'createInTarget', 'updateTarget'],
        },
      ],
    } as SyncFlow['spec'],
  };
}

export interface InvalidFilesSpec {
  name: string;
  /** The field the refusal names. */
  field: RegExp;
  /** Who refuses it in a cluster: the API server (schema) or the controller (Stalled). */
  by: 'schema' | 'validator';
  flow(): SyncFlow;
}

function variant(name: string, by: InvalidFilesSpec['by'], field: RegExp, change: (spec: Spec) => void): InvalidFilesSpec {
  return {
    name,
    by,
    field,
    flow: () => {
      const flow = filesFlow(`bad-${name}`);
      change(flow.spec as Spec);
      return flow;
    },
  };
}

const file = (spec: Spec) => spec.entities[0].source.file;

export const INVALID_FILES_SPECS: InvalidFilesSpec[] = [
  variant('glob-with-directory', 'schema', /spec\.entities\[0\]\.source\.file\.pattern/, (s) => (file(s).pattern = 'inbox/employees-*.csv')),
  variant('glob-unclosed-brace', 'validator', /spec\.entities\[0\]\.source\.file\.pattern: .*glob/, (s) => (file(s).pattern = 'employees-{a,b.csv')),
  variant('glob-reversed-range', 'validator', /spec\.entities\[0\]\.source\.file\.pattern: .*glob/, (s) => (file(s).pattern = 'employees-[9-0].csv')),
  variant('glob-trailing-backslash', 'validator', /spec\.entities\[0\]\.source\.file\.pattern: .*glob/, (s) => (file(s).pattern = 'employees\\')),
  variant('unknown-encoding', 'schema', /spec\.entities\[0\]\.source\.file\.csv\.encoding/, (s) => (file(s).csv.encoding = 'latin1')),
  variant('long-delimiter', 'schema', /spec\.entities\[0\]\.source\.file\.csv\.delimiter/, (s) => (file(s).csv.delimiter = ';;')),
  variant('line-break-delimiter', 'schema', /spec\.entities\[0\]\.source\.file\.csv\.delimiter/, (s) => (file(s).csv.delimiter = '\n')),
  variant('line-break-quote', 'schema', /spec\.entities\[0\]\.source\.file\.csv\.quote/, (s) => (file(s).csv.quote = '\r')),
  variant('quote-is-delimiter', 'validator', /spec\.entities\[0\]\.source\.file\.csv\.quote: must differ from the delimiter/, (s) => (file(s).csv.quote = ';')),
  variant('quote-is-default-delimiter', 'validator', /spec\.entities\[0\]\.source\.file\.csv\.quote: must differ from the delimiter/, (s) => (file(s).csv = { quote: ',' })),
  variant('delimiter-is-default-quote', 'validator', /spec\.entities\[0\]\.source\.file\.csv\.(quote|delimiter): must differ/, (s) => (file(s).csv = { delimiter: '"' })),
  variant('decryption-without-key', 'schema', /spec\.source\.files\.decryption\.secretRef/, (s) => delete s.source.files.decryption.secretRef),
  variant('verify-required-without-public-key', 'schema', /spec\.source\.files\.decryption\.verify\.secretRef/, (s) => (s.source.files.decryption.verify = { required: true })),
  variant('snapshot-with-deleted-when', 'validator', /spec\.entities\[0\]\.source\.file\.deletedWhen: only used with contents: Delta/, (s) => (file(s).deletedWhen = { column: 'op', values: ['D'] })),
  variant('two-way-writing-action', 'validator', /spec\.entities\[0\]\.actions\[3\]: updateSource writes to the source/, (s) => {
    s.direction = 'TwoWay';
    s.entities[0].actions = ['link', 'createInTarget', 'updateTarget', 'updateSource'];
  }),
  variant('two-way-newer-wins', 'validator', /spec\.entities\[0\]\.conflictPolicy: NewerWins could pick the target's value/, (s) => {
    s.direction = 'TwoWay';
    s.entities[0].conflictPolicy = 'NewerWins';
  }),
  variant('neither-directory-nor-server', 'validator', /spec\.source\.files: exactly one of directory or exportTargetRef/, (s) => delete s.source.files.exportTargetRef),
  variant('directory-and-server', 'validator', /spec\.source\.files: exactly one of directory or exportTargetRef/, (s) => (s.source.files.directory = '/inbox')),
  variant('subdirectory-outside', 'validator', /spec\.source\.files\.subdirectory: .*\.\./, (s) => (s.source.files.subdirectory = 'in/../../etc')),
  variant('failed-directory-outside', 'validator', /spec\.source\.files\.failedDirectory: .*\.\./, (s) => (s.source.files.failedDirectory = '..')),
];
