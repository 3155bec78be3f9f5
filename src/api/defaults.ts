import type { Action, ConditionOperator, ConflictPolicy, Entity, MatchPair, Normalization, Related, Side, SideCondition } from './entity.js';
import type { Compression, ExportSettings } from './export-settings.js';
import { DEFAULT_PORTS, type ExportTargetSpec } from './exporttarget.js';
import { FILE_POSITION_COLUMN, type FilesEndpoint } from './files.js';
import type { HttpEndpoint } from './http.js';
import type {
  ConcurrencyPolicy,
  Direction,
  MysqlEndpoint,
  PostgresEndpoint,
  Schedule,
  Scope,
  SharedTargetRows,
  SyncFlowSpec,
} from './syncflow.js';
import { DEFAULTS } from './defaults-values.js';

export { DEFAULTS };

export const DEFAULT_ACTIONS: Record<Direction, readonly Action[]> = {
  OneWay: ['link', 'createInTarget', 'updateTarget'],
  TwoWay: ['link', 'createInTarget', 'createInSource', 'updateNewerWins'],
};

export const DEFAULT_CONFLICT_POLICY: Record<Direction, ConflictPolicy> = {
  OneWay: 'SourceWins',
  TwoWay: 'NewerWins',
};

export type DefaultedSideCondition = SideCondition & { operator: ConditionOperator; values: string[] };
export type DefaultedSide = Omit<Side, 'conditions' | 'archive'> & {
  conditions: DefaultedSideCondition[];
  archive?: { column: string; value: string; restoreValue?: string };
};
export type DefaultedEntity = Omit<Entity, 'source' | 'target' | 'match' | 'requires' | 'related' | 'actions' | 'conflictPolicy'> & {
  source: DefaultedSide;
  target: DefaultedSide;
  match?: (MatchPair & { normalize: Normalization })[];
  requires: string[];
  related: (Related & { includeRelated: boolean })[];
  actions: Action[];
  conflictPolicy: ConflictPolicy;
};
export type DefaultedPostgresEndpoint = { secretRef: { name: string; key: string }; schema: string };
/** `database` stays unset when the URL names it. */
export type DefaultedMysqlEndpoint = { secretRef: { name: string; key: string }; database?: string };
export type DefaultedDatabases = { postgres?: DefaultedPostgresEndpoint; mysql?: DefaultedMysqlEndpoint; http?: HttpEndpoint; files?: FilesEndpoint };
export type DefaultedExportSettings = ExportSettings & { compression: Compression };
export type DefaultedScope = Scope & { includeRelated: boolean; exclude: string[] };
export type DefaultedSchedule = Schedule & { timeZone: string; suspend: boolean };
export type DefaultedSyncFlowSpec = Omit<
  SyncFlowSpec,
  'source' | 'target' | 'entities' | 'scopes' | 'schedules' | 'loopProtection'
> & {
  direction: Direction;
  source: DefaultedDatabases;
  target: DefaultedDatabases & { export?: DefaultedExportSettings };
  entities: DefaultedEntity[];
  scopes: DefaultedScope[];
  schedules: DefaultedSchedule[];
  concurrencyPolicy: ConcurrencyPolicy;
  successfulJobsHistoryLimit: number;
  failedJobsHistoryLimit: number;
  batchSize: number;
  cursorToleranceSeconds: number;
  sharedTargetRows: SharedTargetRows;
  loopProtection: { echoSuppression: boolean; oneWayWindowSeconds?: number; window?: string; windowSeconds: number };
  suspend: boolean;
};
export type DefaultedExportTargetSpec = ExportTargetSpec & {
  port: number;
  directory: string;
  insecure: boolean;
  probeIntervalSeconds: number;
};

function withSideDefaults(side: Side): DefaultedSide {
  const { archive, conditions, ...rest } = side;
  return {
    ...rest,
    conditions: (conditions ?? []).map((c) => ({ ...c, operator: c.operator ?? 'In', values: c.values ?? [] })),
    ...(archive ? { archive: { ...archive, value: archive.value ?? DEFAULTS.archiveValue } } : {}),
  };
}

function withPostgresDefaults(endpoint: PostgresEndpoint): DefaultedPostgresEndpoint {
  return {
    ...endpoint,
    secretRef: { ...endpoint.secretRef, key: endpoint.secretRef.key ?? DEFAULTS.postgresSecretKey },
    schema: endpoint.schema ?? DEFAULTS.postgresSchema,
  };
}

function withMysqlDefaults(endpoint: MysqlEndpoint): DefaultedMysqlEndpoint {
  return { ...endpoint, secretRef: { ...endpoint.secretRef, key: endpoint.secretRef.key ?? DEFAULTS.mysqlSecretKey } };
}

function withDatabaseDefaults(system: SyncFlowSpec['source'] | SyncFlowSpec['target']): DefaultedDatabases {
  return {
    ...(system.postgres ? { postgres: withPostgresDefaults(system.postgres) } : {}),
    ...(system.mysql ? { mysql: withMysqlDefaults(system.mysql) } : {}),
    ...(system.http ? { http: system.http } : {}),
    ...('files' in system && system.files ? { files: system.files } : {}),
  };
}

function withExportDefaults(settings: ExportSettings): DefaultedExportSettings {
  const csv =
    settings.format === 'Csv'
      ? {
          header: settings.csv?.header ?? DEFAULTS.csvHeader,
          delimiter: settings.csv?.delimiter ?? DEFAULTS.csvDelimiter,
          quote: settings.csv?.quote ?? DEFAULTS.csvQuote,
        }
      : settings.csv;
  return {
    ...settings,
    ...(csv ? { csv } : {}),
    compression: settings.compression ?? DEFAULTS.compression,
  };
}

/** Fills the documented entity defaults; actions and conflictPolicy depend on the flow direction. */
export function withEntityDefaults(entity: Entity, direction: Direction): DefaultedEntity {
  const { match, ...rest } = entity;
  return {
    ...rest,
    source: withSideDefaults(entity.source),
    target: withSideDefaults(entity.target),
    ...(match ? { match: match.map((m) => ({ ...m, normalize: m.normalize ?? 'None' })) } : {}),
    requires: [...(entity.requires ?? [])],
    related: (entity.related ?? []).map((r) => ({ ...r, includeRelated: r.includeRelated ?? true })),
    actions: [...(entity.actions ?? DEFAULT_ACTIONS[direction])],
    conflictPolicy: entity.conflictPolicy ?? DEFAULT_CONFLICT_POLICY[direction],
  };
}

/** On a files source the cursor is always the position in the files (the order of files, then the line). */
function withFileCursor(entity: DefaultedEntity, spec: SyncFlowSpec): DefaultedEntity {
  return spec.source.files ? { ...entity, source: { ...entity.source, updatedAt: FILE_POSITION_COLUMN } } : entity;
}

/** Parses a `1h30m`-style duration (hours, minutes, seconds); undefined when it is not one. */
export function parseWindow(text: string): number | undefined {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!match || text === '') return undefined;
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

/** The one-way window in seconds: `window` wins over the older `oneWayWindowSeconds`; 0 = no window. */
export function loopWindowSeconds(loopProtection: SyncFlowSpec['loopProtection']): number {
  if (loopProtection?.window) return parseWindow(loopProtection.window) ?? 0;
  return loopProtection?.oneWayWindowSeconds ?? 0;
}

/** Returns a copy of the spec with every documented default filled in; the input is not changed. */
export function withFlowDefaults(spec: SyncFlowSpec): DefaultedSyncFlowSpec {
  // Manifests read from disk may omit direction even though the type requires it (the API server defaults it).
  const direction: Direction = spec.direction ?? DEFAULTS.direction;
  return {
    ...spec,
    direction,
    source: withDatabaseDefaults(spec.source),
    target: {
      ...withDatabaseDefaults(spec.target),
      ...(spec.target.export ? { export: withExportDefaults(spec.target.export) } : {}),
    },
    // A files source is read-only: its entities default to the actions and policy that never write to it (OneWay's).
    entities: (spec.entities ?? []).map((e) => withFileCursor(withEntityDefaults(e, spec.source.files ? 'OneWay' : direction), spec)),
    scopes: (spec.scopes ?? []).map((s) => ({
      ...s,
      includeRelated: s.includeRelated ?? DEFAULTS.includeRelated,
      exclude: s.exclude ?? [],
    })),
    schedules: (spec.schedules ?? []).map((s) => ({
      ...s,
      timeZone: s.timeZone ?? DEFAULTS.timeZone,
      suspend: s.suspend ?? false,
    })),
    concurrencyPolicy: spec.concurrencyPolicy ?? DEFAULTS.concurrencyPolicy,
    successfulJobsHistoryLimit: spec.successfulJobsHistoryLimit ?? DEFAULTS.successfulJobsHistoryLimit,
    failedJobsHistoryLimit: spec.failedJobsHistoryLimit ?? DEFAULTS.failedJobsHistoryLimit,
    batchSize: spec.batchSize ?? DEFAULTS.batchSize,
    cursorToleranceSeconds: parseWindow(spec.cursorTolerance ?? DEFAULTS.cursorTolerance) ?? 0,
    sharedTargetRows: spec.sharedTargetRows ?? DEFAULTS.sharedTargetRows,
    loopProtection: {
      ...spec.loopProtection,
      echoSuppression: spec.loopProtection?.echoSuppression ?? DEFAULTS.echoSuppression,
      windowSeconds: loopWindowSeconds(spec.loopProtection),
    },
    suspend: spec.suspend ?? false,
  };
}

export function withExportTargetDefaults(spec: ExportTargetSpec): DefaultedExportTargetSpec {
  return {
    ...spec,
    port: spec.port ?? DEFAULT_PORTS[spec.protocol],
    directory: spec.directory ?? '',
    insecure: spec.insecure ?? false,
    probeIntervalSeconds: spec.probeIntervalSeconds ?? DEFAULTS.probeIntervalSeconds,
  };
}
