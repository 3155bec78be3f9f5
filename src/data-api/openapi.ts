import { createHash } from 'node:crypto';
import { GROUP, GROUP_VERSION, VERSION } from './objects.js';

/**
 * The OpenAPI documents of data.ferry.dev, where `kubectl explain pairs` reads the field
 * descriptions. v2: the aggregator fetches /openapi/v2 and merges it into the API server's
 * /openapi/v2 (every version that aggregates). v3: API servers from 1.27 on fetch the discovery
 * document /openapi/v3 and proxy /openapi/v3/apis/data.ferry.dev/v1alpha1 to us, and kubectl
 * explain then reads only v3; 1.20-1.26 do not proxy v3, and kubectl falls back to v2.
 * Definitions are self-contained (no references into kube's own models), so neither document
 * depends on the API server's version.
 */
type Schema = Record<string, unknown>;

const PREFIX = 'dev.ferry.data.v1alpha1';
const ref = (name: string): Schema => ({ $ref: `#/definitions/${PREFIX}.${name}` });
const str = (description: string, extra: Schema = {}): Schema => ({ type: 'string', description, ...extra });
const time = (description: string): Schema => str(description, { format: 'date-time' });
const int = (description: string): Schema => ({ type: 'integer', format: 'int64', description });
const gvk = (kind: string) => ({ 'x-kubernetes-group-version-kind': [{ group: GROUP, version: VERSION, kind }] });

const metadata: Schema = {
  type: 'object',
  description: 'Standard object metadata (read-only: objects of this API are views of the state database).',
  properties: {
    name: str('Name of the object; for a pair `<flow>.<entity>.<source key>`.'),
    namespace: str('Namespace of the SyncFlow the object belongs to.'),
    creationTimestamp: time('When the object came to be (the pair last synced, the run started, the file was created).'),
    resourceVersion: str('On watch events: the state-database horizon the event was read at, to resume a watch from.'),
  },
};

function object(kind: string, description: string, properties: Record<string, Schema>, required: string[]): Schema {
  return {
    type: 'object',
    description,
    required: ['apiVersion', 'kind', 'metadata', ...required],
    properties: {
      apiVersion: str(`${GROUP_VERSION}`),
      kind: str(kind),
      metadata: ref('ObjectMeta'),
      ...properties,
    },
    ...gvk(kind),
  };
}

function list(kind: string): Schema {
  return {
    type: 'object',
    description: `A page of ${kind} objects.`,
    required: ['items'],
    properties: {
      apiVersion: str(GROUP_VERSION),
      kind: str(`${kind}List`),
      metadata: {
        type: 'object',
        properties: {
          resourceVersion: str('The state-database horizon the list was read at; a watch from it misses nothing.'),
          continue: str('Opaque token for the next page (bound to the same filters).'),
        },
      },
      items: { type: 'array', items: ref(kind) },
    },
    ...gvk(`${kind}List`),
  };
}

const definitions: Record<string, Schema> = {
  ObjectMeta: metadata,
  ConflictField: {
    type: 'object',
    description: 'A field whose values differ between source and target, as the run that found the conflict recorded them.',
    required: ['field', 'targetField'],
    properties: {
      field: str("The mapping's source column."),
      targetField: str("The mapping's target column."),
      sourceValue: str('Value in the source system (`******` when masked).'),
      targetValue: str('Value in the target system (`******` when masked).'),
      sourceChangedAt: time('When the source row last changed.'),
      targetChangedAt: time('When the target row last changed.'),
      masked: { type: 'boolean', description: 'The field is sensitive and the user may not get pairs/unmasked.' },
    },
  },
  Pair: object('Pair', 'A linked pair of rows of a SyncFlow entity: one in the source, one in the target.', {
    flow: str('The SyncFlow.'),
    entity: str('The entity of the flow.'),
    sourceKey: str('Key of the row in the source system (composite keys joined by commas).'),
    targetKey: str('Key of the row in the target system.'),
    category: str('State of the pair.', { enum: ['synchronised', 'new', 'conflict', 'deleted', 'deactivated', 'inactive'] }),
    lastOrigin: str('Side whose change was last applied: source or target.'),
    lastSyncedAt: time('When the pair was last synchronised.'),
    sourceGoneAt: time('When the source row disappeared.'),
    targetGoneAt: time('When the target row disappeared (two-way flows).'),
    conflict: {
      type: 'object',
      description: 'For a pair in conflict: each differing field with both values and change times.',
      properties: { detectedAt: time('When the conflict was recorded.'), runId: str('The run that recorded it.'), fields: { type: 'array', items: ref('ConflictField') } },
    },
  }, ['flow', 'entity', 'sourceKey', 'targetKey', 'category']),
  Run: object('Run', 'A run of a SyncFlow, from the state database. The full report is the runs/{name}/report subresource.', {
    flow: str('The SyncFlow.'),
    mode: str('Full, Incremental, Scope, Record, Resolve or Retransfer.'),
    scope: str('The scope of a Scope run.'),
    record: str('The record of a Record run.'),
    dryRun: { type: 'boolean', description: 'The run wrote nothing.' },
    status: str('Running, Succeeded or Failed.'),
    requestedBy: str('Who asked for the run.'),
    startedAt: time('Start time.'),
    completedAt: time('End time.'),
    durationSeconds: { type: 'number', description: 'Run time in seconds.' },
    heartbeatAt: time('Last sign of life of a running run.'),
    counters: { type: 'object', description: 'Rows read, created, updated, unchanged, archived, deleted and rejected.', additionalProperties: { type: 'integer' } },
    error: str('Why the run failed.'),
  }, ['flow', 'mode', 'status', 'startedAt']),
  ExportFile: object('ExportFile', 'A file an export run created and archived. Its content is the exportfiles/{name}/download subresource.', {
    flow: str('The SyncFlow.'),
    runId: str('The export run.'),
    entity: str('The entity exported.'),
    part: int('Part number when the file was split.'),
    fileName: str('File name.'),
    rows: int('Rows in the file.'),
    bytes: int('Size in bytes.'),
    sha256: str('Hex SHA-256 of the content (also sent with the download).'),
    createdAt: time('Creation time.'),
    expiresAt: time('When retention ends.'),
    purged: { type: 'boolean', description: 'The content is gone (retention ended); the row stays as history.' },
    transfers: {
      type: 'array',
      description: 'Outcome per destination.',
      items: {
        type: 'object',
        properties: {
          target: str('The ExportTarget.'),
          status: str('pending, transferring, transferred or failed.'),
          remotePath: str('Path on the destination.'),
          bytes: int('Bytes sent.'),
          attempts: int('Attempts made.'),
          reason: str('Why it failed.'),
          message: str('Details.'),
          completedAt: time('When it ended.'),
        },
      },
    },
  }, ['flow', 'runId', 'fileName', 'sha256']),
  SourceFile: object('SourceFile', 'A file of a files source as the state database recorded it. Files at the location that no run has read yet are not recorded (ferry files -f DIR lists them).', {
    flow: str('The SyncFlow.'),
    entity: str('The entity the file feeds.'),
    fileName: str('File name.'),
    status: str('pending (taken by a run that has not finished), imported or failed.', { enum: ['pending', 'imported', 'failed'] }),
    reason: str('Why the file failed.'),
    size: int('Size in bytes.'),
    modifiedAt: time('Modification time at the location.'),
    sha256: str('Hex SHA-256 of the file as downloaded.'),
    path: str('Where the file is now, below the source directory (processed/ or failed/ after a move).'),
    rows: int('Records the file held (unset: not read, e.g. a snapshot superseded by a newer one).'),
    runId: str('The run that imported the file or found it failed.'),
    firstSeenAt: time('When a run first saw the file.'),
    importedAt: time('When the import finished.'),
  }, ['flow', 'entity', 'fileName', 'status', 'sha256']),
  PairList: list('Pair'),
  RunList: list('Run'),
  ExportFileList: list('ExportFile'),
  SourceFileList: list('SourceFile'),
};

const RESOURCES = [
  { plural: 'pairs', kind: 'Pair' },
  { plural: 'runs', kind: 'Run' },
  { plural: 'exportfiles', kind: 'ExportFile' },
  { plural: 'sourcefiles', kind: 'SourceFile' },
];

function operation(kind: string, action: 'list' | 'get', schema: Schema): Schema {
  return {
    operationId: `${action}${kind}`,
    produces: ['application/json'],
    schemes: ['https'],
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: GROUP, version: VERSION, kind },
    responses: { '200': { description: 'OK', schema }, '401': { description: 'Unauthorized' }, '403': { description: 'Forbidden' } },
  };
}

const pathParam = (name: string) => ({ name, in: 'path', required: true, type: 'string', uniqueItems: true });

function paths(operationOf: (kind: string, action: 'list' | 'get', schema: Schema) => Schema, param: (name: string) => Schema): Record<string, Schema> {
  const result: Record<string, Schema> = {};
  for (const { plural, kind } of RESOURCES) {
    const base = `/apis/${GROUP}/${VERSION}`;
    result[`${base}/${plural}`] = { get: { ...operationOf(kind, 'list', ref(`${kind}List`)), operationId: `list${kind}ForAllNamespaces` } };
    result[`${base}/namespaces/{namespace}/${plural}`] = { get: operationOf(kind, 'list', ref(`${kind}List`)), parameters: [param('namespace')] };
    result[`${base}/namespaces/{namespace}/${plural}/{name}`] = { get: operationOf(kind, 'get', ref(kind)), parameters: [param('name'), param('namespace')] };
  }
  return result;
}

export function openApiV2() {
  return {
    swagger: '2.0',
    info: { title: 'Ferry data API', version: VERSION },
    paths: paths(operation, pathParam),
    definitions: Object.fromEntries(Object.entries(definitions).map(([name, schema]) => [`${PREFIX}.${name}`, schema])),
  };
}

/** Path of the group-version's v3 document, as kube names it (`/openapi/v3/apis/<group>/<version>`). */
export const OPENAPI_V3_GROUP_VERSION_PATH = `/openapi/v3/apis/${GROUP}/${VERSION}`;

/** v2 references point into `definitions`; v3 ones into `components.schemas`. */
const v3Refs = <T>(value: T): T => JSON.parse(JSON.stringify(value).replaceAll('"#/definitions/', '"#/components/schemas/')) as T;

function operationV3(kind: string, action: 'list' | 'get', schema: Schema): Schema {
  const { produces: _produces, schemes: _schemes, responses: _responses, ...rest } = operation(kind, action, schema);
  return { ...rest, responses: { '200': { description: 'OK', content: { 'application/json': { schema } } }, '401': { description: 'Unauthorized' }, '403': { description: 'Forbidden' } } };
}

const pathParamV3 = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string', uniqueItems: true } });

export function openApiV3GroupVersion() {
  return v3Refs({
    openapi: '3.0.0',
    info: { title: 'Ferry data API', version: VERSION },
    paths: paths(operationV3, pathParamV3),
    components: { schemas: Object.fromEntries(Object.entries(definitions).map(([name, schema]) => [`${PREFIX}.${name}`, schema])) },
  });
}

/** The v3 discovery document: one entry per group-version, whose URL changes with the content (clients cache by it). */
export function openApiV3Discovery() {
  const hash = createHash('sha512').update(JSON.stringify(openApiV3GroupVersion())).digest('hex').toUpperCase();
  return { paths: { [OPENAPI_V3_GROUP_VERSION_PATH.slice('/openapi/v3/'.length)]: { serverRelativeURL: `${OPENAPI_V3_GROUP_VERSION_PATH}?hash=${hash}` } } };
}
