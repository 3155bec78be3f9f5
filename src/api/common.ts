import { Type, type SchemaOptions, type TSchema } from '@sinclair/typebox';

export const API_GROUP = 'ferry.dev';
export const API_VERSION_NAME = 'v1alpha1';
export const API_VERSION = `${API_GROUP}/${API_VERSION_NAME}` as const;

/** Entity, scope and schedule names: they appear in SQL-free identifiers, metrics labels and job names. */
export const NAME_PATTERN = '^[a-z][a-z0-9_]*$';
/** Kubernetes object names (Secrets, SyncFlows, ExportTargets). */
export const DNS1123_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const DNS1123_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
export const EMAIL_PATTERN = '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$';
export const SECRET_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';
/** Unquoted Postgres identifiers only: keeps generated SQL free of quoting surprises. */
export const SQL_IDENTIFIER_PATTERN = '^[A-Za-z_][A-Za-z0-9_$]*$';
/** A table, optionally schema-qualified. */
export const SQL_TABLE_PATTERN = '^[A-Za-z_][A-Za-z0-9_$]*(\\.[A-Za-z_][A-Za-z0-9_$]*)?$';

/** A string enum as plain `{type: string, enum}` (TypeBox unions of literals become anyOf, which CRDs cannot use). */
export function StringEnum<const T extends readonly string[]>(values: T, options: SchemaOptions = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

export const Name = (description: string, options: SchemaOptions = {}) =>
  Type.String({ pattern: NAME_PATTERN, minLength: 1, maxLength: 63, description, ...options });

/** Schedule names become part of SyncJob names (`<flow>-<schedule>-<unix time>`), so they follow DNS-1123 label rules. */
export const ScheduleName = (description: string) =>
  Type.String({ pattern: DNS1123_LABEL_PATTERN, minLength: 1, maxLength: 40, description });

export const ObjectName = (description: string) =>
  Type.String({ pattern: DNS1123_SUBDOMAIN_PATTERN, minLength: 1, maxLength: 253, description });

export const Column = (description: string) =>
  Type.String({ pattern: SQL_IDENTIFIER_PATTERN, minLength: 1, maxLength: 63, description });

export const Table = (description: string) =>
  Type.String({ pattern: SQL_TABLE_PATTERN, minLength: 1, maxLength: 127, description });

export const Email = (description: string) =>
  Type.String({ pattern: EMAIL_PATTERN, minLength: 3, maxLength: 254, description });

export const Timestamp = (description: string) => Type.String({ format: 'date-time', description });

export const Count = (description: string) => Type.Integer({ minimum: 0, format: 'int64', description });

export const Message = (description: string, maxLength = 4096) => Type.String({ maxLength, description });

/** Marks a list whose items are identified by key fields (server-side merge, uniqueness enforced by the API server). */
export function MapList<T extends TSchema>(items: T, keys: string[], options: SchemaOptions & { maxItems: number }) {
  return Type.Array(items, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': keys, ...options });
}

/** A list of unique scalars. */
export function SetList<T extends TSchema>(items: T, options: SchemaOptions & { maxItems: number }) {
  return Type.Array(items, { 'x-kubernetes-list-type': 'set', ...options });
}

/** A CEL rule the API server enforces; the local validator repeats each one so `ferry validate` reports it too. */
export interface CelRule {
  rule: string;
  message: string;
}
export const celRules = (...rules: CelRule[]) => ({ 'x-kubernetes-validations': rules });

export const LocalObjectReferenceSchema = Type.Object(
  { name: ObjectName('Name of the object in the same namespace.') },
  { description: 'Reference to an object in the same namespace.' },
);

export const SecretKeyRefSchema = Type.Object(
  {
    name: ObjectName('Name of the Secret in the same namespace.'),
    key: Type.Optional(Type.String({ pattern: SECRET_KEY_PATTERN, maxLength: 253, description: 'Key within the Secret.' })),
  },
  { description: 'Reference to one key of a Secret in the same namespace.' },
);

const StringMap = () => Type.Record(Type.String(), Type.String());

/** The parts of metav1.ObjectMeta Ferry reads. The CRD itself leaves metadata to the API server. */
export const ObjectMetaSchema = Type.Object({
  name: Type.String(),
  generateName: Type.Optional(Type.String()),
  namespace: Type.Optional(Type.String()),
  uid: Type.Optional(Type.String()),
  resourceVersion: Type.Optional(Type.String()),
  generation: Type.Optional(Type.Integer()),
  creationTimestamp: Type.Optional(Type.String()),
  deletionTimestamp: Type.Optional(Type.String()),
  labels: Type.Optional(StringMap()),
  annotations: Type.Optional(StringMap()),
  finalizers: Type.Optional(Type.Array(Type.String())),
  ownerReferences: Type.Optional(
    Type.Array(
      Type.Object({
        apiVersion: Type.String(),
        kind: Type.String(),
        name: Type.String(),
        uid: Type.String(),
        controller: Type.Optional(Type.Boolean()),
        blockOwnerDeletion: Type.Optional(Type.Boolean()),
      }),
    ),
  ),
});

/** Builds the full resource schema (used for the TS types; the CRD root is built in crd.ts). */
export function resourceSchema<K extends string, S extends TSchema, St extends TSchema>(kind: K, spec: S, status: St) {
  return Type.Object({
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal(kind),
    metadata: ObjectMetaSchema,
    spec,
    status: Type.Optional(status),
  });
}

export const SYNC_MODES = ['Full', 'Incremental', 'Scope', 'Record', 'Resolve', 'Retransfer'] as const;
export type SyncMode = (typeof SYNC_MODES)[number];

export const JOB_PHASES = ['Pending', 'Queued', 'Scheduled', 'Running', 'Succeeded', 'Failed', 'Rejected'] as const;
export type JobPhase = (typeof JOB_PHASES)[number];
