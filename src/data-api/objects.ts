import type { ConflictFieldRecord, PairRecord } from '../store/pair-reads.js';
import type { UnpairedRecord } from '../store/unpaired-records.js';
import type { RunRecord } from '../store/run-reads.js';
import type { ExportFileRecord } from '../store/export-file-reads.js';
import type { SourceFileRow } from '../store/source-file-reads.js';
import { displayKey, pairName, splitFlowId } from './names.js';

export const GROUP = 'data.ferry.dev';
export const VERSION = 'v1alpha1';
export const GROUP_VERSION = `${GROUP}/${VERSION}`;
export const MASK = '******';

export interface ObjectMeta {
  name: string;
  namespace: string;
  creationTimestamp?: string;
  /** Set on watch events: the horizon they were read at (a watch may resume from it). */
  resourceVersion?: string;
}

export interface ConflictField {
  /** The mapping's source column and target column. */
  field: string;
  targetField: string;
  sourceValue: string | null;
  targetValue: string | null;
  sourceChangedAt?: string;
  targetChangedAt?: string;
  /** The values are replaced by `******`: the field is sensitive and the user may not get pairs/unmasked. */
  masked?: boolean;
}

export interface Pair {
  apiVersion: typeof GROUP_VERSION;
  kind: 'Pair';
  metadata: ObjectMeta;
  flow: string;
  entity: string;
  sourceKey: string;
  targetKey: string;
  category: string;
  lastOrigin: string;
  lastSyncedAt: string;
  sourceGoneAt?: string;
  targetGoneAt?: string;
  conflict?: { detectedAt: string; runId: string; fields: ConflictField[] };
  /** Category `new`: a record on one side without a partner (its key is on that side, the other key is ''). */
  unpaired?: UnpairedView;
}

export interface UnpairedView {
  side: 'source' | 'target';
  /** `unmatched`: no action paired it; `duplicate`: a partner matches every match field but the link action is off. */
  reason: string;
  /** Whether the record meets its side's conditions. */
  inScope: boolean;
  /** Up to three unpaired records of the other side, most agreeing `match` fields first. */
  suggestions: { key: string; agreeing: { source: string; target: string }[] }[];
}

export interface Run {
  apiVersion: typeof GROUP_VERSION;
  kind: 'Run';
  metadata: ObjectMeta;
  flow: string;
  mode: string;
  scope?: string;
  record?: string;
  dryRun: boolean;
  status: string;
  requestedBy?: string;
  startedAt: string;
  completedAt?: string;
  durationSeconds?: number;
  heartbeatAt?: string;
  counters?: RunRecord['totals'];
  error?: string;
}

export interface ExportFile {
  apiVersion: typeof GROUP_VERSION;
  kind: 'ExportFile';
  metadata: ObjectMeta;
  flow: string;
  runId: string;
  entity: string;
  part: number;
  fileName: string;
  rows: number;
  bytes: number;
  sha256: string;
  createdAt: string;
  expiresAt?: string;
  /** The content is gone (retention ended); the row stays as history. */
  purged: boolean;
  transfers: { target: string; status: string; remotePath?: string; bytes?: number; attempts: number; reason?: string; message?: string; completedAt?: string }[];
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : undefined);
const optional = <K extends string, V>(key: K, value: V | null | undefined) => (value === null || value === undefined ? {} : ({ [key]: value } as Record<K, V>));

/** `masked(field)`: whether this user sees `******` instead of the field's values. */
export function toPair(record: PairRecord, conflicts: ConflictFieldRecord[] | undefined, masked: (field: ConflictFieldRecord) => boolean): Pair {
  const { namespace, name: flow } = splitFlowId(record.flow);
  const fields = (conflicts ?? []).map((c): ConflictField => {
    const masked_ = masked(c);
    return {
      field: c.field,
      targetField: c.targetField,
      sourceValue: masked_ && c.sourceValue !== null ? MASK : c.sourceValue,
      targetValue: masked_ && c.targetValue !== null ? MASK : c.targetValue,
      ...optional('sourceChangedAt', iso(c.sourceChangedAt)),
      ...optional('targetChangedAt', iso(c.targetChangedAt)),
      ...(masked_ ? { masked: true } : {}),
    };
  });
  const first = conflicts?.[0];
  return {
    apiVersion: GROUP_VERSION,
    kind: 'Pair',
    metadata: { name: pairName(flow, record.entity, record.sourceKey), namespace, creationTimestamp: record.lastSyncedAt.toISOString() },
    flow,
    entity: record.entity,
    sourceKey: displayKey(record.sourceKey),
    targetKey: displayKey(record.targetKey),
    category: record.category,
    lastOrigin: record.lastOrigin,
    lastSyncedAt: record.lastSyncedAt.toISOString(),
    ...optional('sourceGoneAt', iso(record.sourceGoneAt)),
    ...optional('targetGoneAt', iso(record.targetGoneAt)),
    ...(first && record.category === 'conflict' ? { conflict: { detectedAt: first.detectedAt.toISOString(), runId: first.runId, fields } } : {}),
  };
}

/** A `new` record as a Pair object; `matchFields` are the entity's match pairs (positions when the flow is unknown). */
export function toUnpairedPair(record: UnpairedRecord, matchFields: { source: string; target: string }[] | undefined): Pair {
  const { namespace, name: flow } = splitFlowId(record.flow);
  const key = displayKey(record.key);
  const field = (i: number) => matchFields?.[i] ?? { source: `match[${i}]`, target: `match[${i}]` };
  return {
    apiVersion: GROUP_VERSION,
    kind: 'Pair',
    // Not a pair name: the segment names the side, so a source and a target record with the same key differ.
    metadata: { name: unpairedName(flow, record.entity, record.side, record.key), namespace, creationTimestamp: record.seenAt.toISOString() },
    flow,
    entity: record.entity,
    sourceKey: record.side === 'source' ? key : '',
    targetKey: record.side === 'target' ? key : '',
    category: 'new',
    lastOrigin: record.side,
    lastSyncedAt: record.seenAt.toISOString(),
    unpaired: {
      side: record.side,
      reason: record.reason,
      inScope: record.inScope,
      suggestions: record.suggestions.map((s) => ({ key: displayKey(s.key), agreeing: s.agreeing.map(field) })),
    },
  };
}

/** `5001 (last_name/name_last)`: a suggested partner and the match fields that agree, as the CLIs print it. */
export function suggestionLabel(s: UnpairedView['suggestions'][number]): string {
  return `${s.key} (${s.agreeing.map((f) => (f.source === f.target ? f.source : `${f.source}/${f.target}`)).join(', ')})`;
}

export function unpairedName(flow: string, entity: string, side: 'source' | 'target', storedKey: string): string {
  return `${flow}.${entity}.new-${side}~${Buffer.from(storedKey, 'utf8').toString('base64url')}`;
}

export function toRun(record: RunRecord): Run {
  const { namespace, name: flow } = splitFlowId(record.flow);
  return {
    apiVersion: GROUP_VERSION,
    kind: 'Run',
    metadata: { name: record.id, namespace, creationTimestamp: record.startedAt.toISOString() },
    flow,
    mode: record.mode,
    ...optional('scope', record.scope),
    ...optional('record', record.record),
    dryRun: record.dryRun,
    status: record.status,
    ...optional('requestedBy', record.requestedBy),
    startedAt: record.startedAt.toISOString(),
    ...optional('completedAt', iso(record.completedAt)),
    ...(record.completedAt ? { durationSeconds: (record.completedAt.getTime() - record.startedAt.getTime()) / 1000 } : {}),
    ...optional('heartbeatAt', iso(record.heartbeatAt)),
    ...optional('counters', record.totals),
    ...optional('error', record.error),
  };
}

export function toExportFile(record: ExportFileRecord): ExportFile {
  const { namespace, name: flow } = splitFlowId(record.flow);
  return {
    apiVersion: GROUP_VERSION,
    kind: 'ExportFile',
    metadata: { name: record.id, namespace, creationTimestamp: record.createdAt.toISOString() },
    flow,
    runId: record.runId,
    entity: record.entity,
    part: record.part,
    fileName: record.name,
    rows: record.rows,
    bytes: record.bytes,
    sha256: record.sha256,
    createdAt: record.createdAt.toISOString(),
    ...optional('expiresAt', iso(record.expiresAt)),
    purged: record.purgedAt !== null,
    // Remote paths and messages come from Ferry's own transfer log; credentials never reach it.
    transfers: record.transfers.map((t) => ({
      target: t.target,
      status: t.status,
      ...optional('remotePath', t.remotePath),
      ...optional('bytes', t.bytes),
      attempts: t.attempts,
      ...optional('reason', t.reason),
      ...optional('message', t.message),
      ...optional('completedAt', iso(t.completedAt)),
    })),
  };
}

/** A file of a files source the state database recorded (the location itself is not listed here: see `kubectl ferry files`). */
export interface SourceFile {
  apiVersion: typeof GROUP_VERSION;
  kind: 'SourceFile';
  metadata: ObjectMeta;
  flow: string;
  entity: string;
  fileName: string;
  /** pending (taken by a run not finished), imported or failed. */
  status: string;
  reason?: string;
  size: number;
  modifiedAt: string;
  sha256: string;
  /** Where the file is now, below the source's directory (processed/ or failed/ after a move). */
  path: string;
  rows?: number;
  runId?: string;
  firstSeenAt: string;
  importedAt?: string;
}

export function toSourceFile(record: SourceFileRow): SourceFile {
  const { namespace, name: flow } = splitFlowId(record.flow);
  return {
    apiVersion: GROUP_VERSION,
    kind: 'SourceFile',
    metadata: { name: record.id, namespace, creationTimestamp: record.firstSeenAt.toISOString() },
    flow,
    entity: record.entity,
    fileName: record.name,
    status: record.status,
    ...optional('reason', record.reason),
    size: record.size,
    modifiedAt: record.modifiedAt.toISOString(),
    sha256: record.sha256,
    path: record.path,
    ...optional('rows', record.rows),
    ...optional('runId', record.runId),
    firstSeenAt: record.firstSeenAt.toISOString(),
    ...optional('importedAt', iso(record.importedAt)),
  };
}
