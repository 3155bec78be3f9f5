import type { CelRule } from './common.js';
import { DEFAULTS } from './defaults-values.js';
import type { SyncFlowSpec } from './syncflow.js';

export const DATABASE_KINDS = ['postgres', 'mysql'] as const;
export type DatabaseKind = (typeof DATABASE_KINDS)[number];

export type SystemSide = 'source' | 'target';

/** The members of the spec.source and spec.target one-ofs; files is a source only. */
export const SYSTEM_KINDS = {
  source: [...DATABASE_KINDS, 'http', 'files'],
  target: [...DATABASE_KINDS, 'http', 'export'],
} as const;

export interface DatabaseEndpoint {
  kind: DatabaseKind;
  secretRef: { name: string; key: string };
  /** postgres schema or mysql database ('' = the URL's database) */
  namespace: string;
  /** field path, e.g. 'spec.source.mysql' */
  path: string;
}

type SystemSpec = SyncFlowSpec['source'] | SyncFlowSpec['target'];

function orList(words: readonly string[]): string {
  return words.length <= 2 ? words.join(' or ') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** The one-of message, shared by the CRD's CEL rule and the local validator. */
export function oneOfMessage(side: SystemSide): string {
  return `exactly one of ${orList(SYSTEM_KINDS[side])} must be set`;
}

export function oneOfRule(side: SystemSide): CelRule {
  const count = SYSTEM_KINDS[side].map((kind) => `(has(self.${kind}) ? 1 : 0)`).join(' + ');
  return { rule: `${count} == 1`, message: oneOfMessage(side) };
}

/** The kinds set on one side; exactly one in a valid spec. */
export function kindsSet(system: SystemSpec, side: SystemSide): string[] {
  const members: Readonly<Record<string, unknown>> = system;
  return SYSTEM_KINDS[side].filter((kind) => members[kind] !== undefined);
}

/** The database one side of a flow reads or writes, defaults applied; undefined when that side is no database (an export). */
export function databaseOf(system: SystemSpec, side: SystemSide): DatabaseEndpoint | undefined {
  if (system.postgres) {
    const { secretRef, schema } = system.postgres;
    return {
      kind: 'postgres',
      secretRef: { name: secretRef.name, key: secretRef.key ?? DEFAULTS.postgresSecretKey },
      namespace: schema ?? DEFAULTS.postgresSchema,
      path: `spec.${side}.postgres`,
    };
  }
  if (system.mysql) {
    const { secretRef, database } = system.mysql;
    return {
      kind: 'mysql',
      secretRef: { name: secretRef.name, key: secretRef.key ?? DEFAULTS.mysqlSecretKey },
      namespace: database ?? '',
      path: `spec.${side}.mysql`,
    };
  }
  return undefined;
}
