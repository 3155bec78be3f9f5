import { Type, type Static, type TInteger, type TOptional } from '@sinclair/typebox';
import {
  Count,
  DNS1123_LABEL_PATTERN,
  Email,
  JOB_PHASES,
  LocalObjectReferenceSchema,
  MapList,
  Message,
  Name,
  ObjectName,
  SECRET_KEY_PATTERN,
  SQL_IDENTIFIER_PATTERN,
  SYNC_MODES,
  type SyncMode,
  ScheduleName,
  SetList,
  StringEnum,
  Timestamp,
  celRules,
  resourceSchema,
} from './common.js';
import { ConditionsSchema } from './conditions.js';
import { DEFAULTS } from './defaults-values.js';
import { EntitySchema } from './entity.js';
import { ExportSettingsSchema } from './export-settings.js';
import { FilesEndpointSchema } from './files.js';
import { HttpEndpointSchema } from './http.js';
import { WebhookSchema } from './webhook.js';
import { SCOPE_MODES } from './syncjob.js';
import { oneOfRule } from './systems.js';

export const DIRECTIONS = ['OneWay', 'TwoWay'] as const;
export type Direction = (typeof DIRECTIONS)[number];

export const CONCURRENCY_POLICIES = ['Forbid', 'Queue', 'Replace'] as const;
export type ConcurrencyPolicy = (typeof CONCURRENCY_POLICIES)[number];
export const SHARED_TARGET_ROWS = ['Warn', 'Refuse'] as const;
export type SharedTargetRows = (typeof SHARED_TARGET_ROWS)[number];

export const SCHEDULE_MODES = ['Full', 'Incremental', 'Scope'] as const;
export type ScheduleMode = (typeof SCHEDULE_MODES)[number];

/** The Secret key holding a database's connection URL. */
const DatabaseSecretRef = (url: string, defaultKey: string) =>
  Type.Object(
    {
      name: ObjectName('Secret holding the connection URL.'),
      key: Type.Optional(
        Type.String({
          pattern: SECRET_KEY_PATTERN,
          maxLength: 253,
          default: defaultKey,
          description: 'Key of the connection URL in the Secret; default "url".',
        }),
      ),
    },
    { description: `Secret key holding a ${url} connection URL.` },
  );

export const PostgresEndpointSchema = Type.Object(
  {
    secretRef: DatabaseSecretRef('postgres://', DEFAULTS.postgresSecretKey),
    schema: Type.Optional(
      Type.String({
        pattern: SQL_IDENTIFIER_PATTERN,
        maxLength: 63,
        default: DEFAULTS.postgresSchema,
        description: 'Database schema; default "public".',
      }),
    ),
  },
  { description: 'A Postgres database reached through a Secret.' },
);
export type PostgresEndpoint = Static<typeof PostgresEndpointSchema>;

export const MysqlEndpointSchema = Type.Object(
  {
    secretRef: DatabaseSecretRef('mysql://user:password@host:port/database', DEFAULTS.mysqlSecretKey),
    database: Type.Optional(
      Type.String({
        pattern: SQL_IDENTIFIER_PATTERN,
        maxLength: 64,
        description: 'Database whose tables the entities name; default: the database in the URL.',
      }),
    ),
  },
  { description: 'A MariaDB (10.11 or later) or MySQL (8) database reached through a Secret.' },
);
export type MysqlEndpoint = Static<typeof MysqlEndpointSchema>;

export const SourceSchema = Type.Object(
  {
    postgres: Type.Optional(PostgresEndpointSchema),
    mysql: Type.Optional(MysqlEndpointSchema),
    http: Type.Optional(HttpEndpointSchema),
    files: Type.Optional(FilesEndpointSchema),
  },
  {
    description: 'System of record: a Postgres or a MariaDB/MySQL database, a JSON-over-HTTP API, or partner files (exactly one).',
    ...celRules(oneOfRule('source')),
  },
);
export type Source = Static<typeof SourceSchema>;

export const TargetSchema = Type.Object(
  {
    postgres: Type.Optional(PostgresEndpointSchema),
    mysql: Type.Optional(MysqlEndpointSchema),
    http: Type.Optional(HttpEndpointSchema),
    export: Type.Optional(ExportSettingsSchema),
  },
  {
    description: 'Where records go: a Postgres or a MariaDB/MySQL database, a JSON-over-HTTP API, or a file export (exactly one).',
    ...celRules(oneOfRule('target')),
  },
);
export type Target = Static<typeof TargetSchema>;

export const ScopeSchema = Type.Object(
  {
    name: Name('Scope name, unique in the flow.'),
    entities: SetList(Name('Entity name.'), { minItems: 1, maxItems: 200, description: 'Entities in the scope.' }),
    includeRelated: Type.Optional(
      Type.Boolean({ default: DEFAULTS.includeRelated, description: 'Also sync the related (child) entities of the listed ones, transitively; default true. Required parents are not added.' }),
    ),
    exclude: Type.Optional(
      SetList(Name('Entity name.'), { maxItems: 200, description: 'Entities left out even when related.' }),
    ),
  },
  { description: 'A named subset of entities, run with mode Scope.' },
);
export type Scope = Static<typeof ScopeSchema>;

export const ScheduleSchema = Type.Object(
  {
    name: ScheduleName('Schedule name, unique in the flow; part of the SyncJob names it creates.'),
    cron: Type.String({ minLength: 1, maxLength: 100, description: 'Cron expression (5 or 6 fields, or @daily etc.).' }),
    timeZone: Type.Optional(
      Type.String({ maxLength: 64, default: DEFAULTS.timeZone, description: 'IANA time zone; default UTC. On daylight-saving nights the schedule still runs once: a time that does not exist runs at the first valid time after it, a repeated time at its first occurrence.' }),
    ),
    mode: StringEnum(SCHEDULE_MODES, { description: 'Mode of the SyncJobs this schedule creates.' }),
    scope: Type.Optional(Name('Scope to run; required when mode is Scope.')),
    scopeMode: Type.Optional(
      StringEnum(SCOPE_MODES, { description: 'Full or Incremental within the scope (mode Scope); default Incremental.' }),
    ),
    suspend: Type.Optional(Type.Boolean({ description: 'Stop creating SyncJobs from this schedule.' })),
    enabledIn: Type.Optional(
      SetList(Type.String({ pattern: DNS1123_LABEL_PATTERN, maxLength: 63 }), {
        maxItems: 20,
        description: 'Environments (the controller --environment flag) where the schedule runs; all when empty.',
      }),
    ),
    startingDeadlineSeconds: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 86400, description: 'Skip a run that could not start within this many seconds.' }),
    ),
  },
  {
    description: 'A cron schedule that creates SyncJobs.',
    ...celRules(
      { rule: "self.mode != 'Scope' || has(self.scope)", message: 'scope is required when mode is Scope' },
      { rule: "self.mode == 'Scope' || !has(self.scopeMode)", message: 'scopeMode is only used when mode is Scope' },
    ),
  },
);
export type Schedule = Static<typeof ScheduleSchema>;

export const LoopProtectionSchema = Type.Object(
  {
    echoSuppression: Type.Optional(
      Type.Boolean({ default: DEFAULTS.echoSuppression, description: 'Ignore changes Ferry itself wrote; default true.' }),
    ),
    oneWayWindowSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 604800,
        description: 'After a change, block the reverse direction for this many seconds (same as window).',
      }),
    ),
    window: Type.Optional(
      Type.String({
        pattern: '^([0-9]+h)?([0-9]+m)?([0-9]+s)?$',
        minLength: 2,
        maxLength: 32,
        description: 'After a change, block the reverse direction for this long, e.g. 1h or 90m (at most 168h).',
      }),
    ),
  },
  { description: 'Keeps changes from bouncing between the systems.' },
);
export type LoopProtection = Static<typeof LoopProtectionSchema>;

export const NotificationsSchema = Type.Object(
  {
    adminEmails: Type.Optional(SetList(Email('E-mail address.'), { maxItems: 20, description: 'Who receives run reports.' })),
    onSuccess: Type.Optional(Type.Boolean({ description: 'Send a report after successful runs.' })),
    onFailure: Type.Optional(Type.Boolean({ description: 'Send a report after failed runs.' })),
    smtpSecretRef: Type.Optional(LocalObjectReferenceSchema),
  },
  { description: 'Report e-mails.' },
);
export type Notifications = Static<typeof NotificationsSchema>;

const Quantity = (description: string) =>
  Type.String({ maxLength: 32, pattern: '^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$', description });
const CpuMemory = (description: string) =>
  Type.Object({ cpu: Type.Optional(Quantity('CPU, e.g. 500m.')), memory: Type.Optional(Quantity('Memory, e.g. 1Gi.')) }, { description });
/** A size in bytes as a Kubernetes quantity, above zero and without the milli suffix (0 or 500m would be no room at all). */
export const SIZE_QUANTITY_PATTERN = '^[1-9][0-9]*(\\.[0-9]+)?(k|M|G|T|Ki|Mi|Gi|Ti)?$';

/** How the controller runs this flow's Jobs; unset fields come from the controller (Helm chart) defaults. */
export const RunnerSchema = Type.Object(
  {
    resources: Type.Optional(
      Type.Object(
        { requests: Type.Optional(CpuMemory('Requested resources.')), limits: Type.Optional(CpuMemory('Resource limits; the memory limit also sizes the V8 heap.')) },
        { description: 'Resources of the Job pod.' },
      ),
    ),
    scratch: Type.Optional(
      Type.Object(
        {
          sizeLimit: Type.Optional(
            Type.String({
              maxLength: 32,
              pattern: SIZE_QUANTITY_PATTERN,
              description:
                "Size of the pod's /tmp (an emptyDir), also requested as ephemeral-storage, e.g. 20Gi. A files source decodes the files it imports there, keeping them for the run's reads within half of this size (plus a key census of a large snapshot, about the size of its keys). Unset: the controller's default (the chart's jobs.scratch: 1Gi, 10Gi with a files source).",
            }),
          ),
        },
        { description: 'Scratch space of the Job pod (/tmp).' },
      ),
    ),
    backoffLimit: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, description: 'Pod retries before the run fails.' })),
    activeDeadlineSeconds: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 604800, description: 'The run fails with DeadlineExceeded after this long.' }),
    ),
  },
  { description: 'Job settings for this flow.' },
);
export type Runner = Static<typeof RunnerSchema>;

export const SyncFlowSpecSchema = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 1024, description: 'Free text.' })),
    direction: StringEnum(DIRECTIONS, { default: DEFAULTS.direction, description: 'OneWay (default) or TwoWay.' }),
    source: SourceSchema,
    target: TargetSchema,
    entities: MapList(EntitySchema, ['name'], {
      maxItems: 200,
      default: [],
      description: 'Entities to sync. At least one unless the target is an export with a query.',
    }),
    scopes: Type.Optional(MapList(ScopeSchema, ['name'], { maxItems: 50, description: 'Named scopes.' })),
    schedules: Type.Optional(MapList(ScheduleSchema, ['name'], { maxItems: 20, description: 'Cron schedules.' })),
    concurrencyPolicy: Type.Optional(
      StringEnum(CONCURRENCY_POLICIES, {
        default: DEFAULTS.concurrencyPolicy,
        description: 'What to do with a new SyncJob while one runs; default Forbid.',
      }),
    ),
    successfulJobsHistoryLimit: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 100, default: DEFAULTS.successfulJobsHistoryLimit, description: 'Default 10.' }),
    ),
    failedJobsHistoryLimit: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 100, default: DEFAULTS.failedJobsHistoryLimit, description: 'Default 5.' }),
    ),
    batchSize: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100000, default: DEFAULTS.batchSize, description: 'Rows per batch; default 5000.' }),
    ),
    cursorTolerance: Type.Optional(
      Type.String({
        pattern: '^([0-9]+h)?([0-9]+m)?([0-9]+s)?$',
        minLength: 2,
        maxLength: 32,
        default: DEFAULTS.cursorTolerance,
        description:
          'How far past now a source updatedAt may lie and still move the watermark, e.g. 24h (the default). Rows dated later are synced, named in the report, and hold the watermark at or before now plus this.',
      }),
    ),
    sharedTargetRows: Type.Optional(
      StringEnum(SHARED_TARGET_ROWS, {
        default: DEFAULTS.sharedTargetRows,
        description:
          'Target rows another flow links too (same target database, table and keys), which the two flows would overwrite in turn on every run: Warn (the default) writes them and names the other flow in the report; Refuse rejects them with that reason. One-way entities.',
      }),
    ),
    loopProtection: Type.Optional(LoopProtectionSchema),
    notifications: Type.Optional(NotificationsSchema),
    webhook: Type.Optional(WebhookSchema),
    suspend: Type.Optional(Type.Boolean({ description: 'Stop scheduling; running jobs finish.' })),
    runner: Type.Optional(RunnerSchema),
  },
  {
    description: 'What to sync and when.',
    ...celRules(
      { rule: 'has(self.target.export) || size(self.entities) > 0', message: 'entities: at least one entity is required' },
      {
        rule: "!has(self.target.export) || self.direction == 'OneWay'",
        message: 'direction must be OneWay when the target is an export',
      },
    ),
  },
);
export type SyncFlowSpec = Static<typeof SyncFlowSpecSchema>;

const RunRefSchema = Type.Object({
  runId: Type.String({ maxLength: 128 }),
  completedAt: Timestamp('When the run completed.'),
});

const lastRunPerMode = Object.fromEntries(SYNC_MODES.map((mode) => [mode, Type.Optional(RunRefSchema)])) as Record<SyncMode, TOptional<typeof RunRefSchema>>;

export const FlowHistoryEntrySchema = Type.Object({
  jobName: ObjectName('SyncJob name.'),
  runId: Type.Optional(Type.String({ maxLength: 128 })),
  mode: StringEnum(SYNC_MODES),
  phase: StringEnum(JOB_PHASES),
  startedAt: Type.Optional(Timestamp('Start time.')),
  completedAt: Type.Optional(Timestamp('Completion time.')),
  message: Type.Optional(Message('Outcome.', 1024)),
});
export type FlowHistoryEntry = Static<typeof FlowHistoryEntrySchema>;

export const PAIR_CATEGORIES = ['conflict', 'new', 'deleted', 'deactivated', 'synchronised', 'inactive'] as const;
export type PairCategory = (typeof PAIR_CATEGORIES)[number];

/** Bounds of status.sourceListing (at most ~130 KB): the newest files per entity, the entities listed, a file name's length (NAME_MAX). */
export const LISTED_FILES_PER_ENTITY = 20;
export const LISTED_ENTITIES = 20;
export const LISTED_NAME_LENGTH = 255;

export const SourceListingSchema = Type.Object(
  {
    listedAt: Timestamp('When the read probe listed the location.'),
    entities: MapList(
      Type.Object({
        name: Name('Entity name.'),
        files: Type.Array(
          Type.Object({
            name: Type.String({ minLength: 1, maxLength: LISTED_NAME_LENGTH, description: 'File name, below the location.' }),
            size: Count('Size in bytes.'),
            modifiedAt: Timestamp('Modification time.'),
            changing: Type.Optional(Type.Boolean({ description: 'Size or time changed between the two looks: still being written.' })),
          }),
          { maxItems: LISTED_FILES_PER_ENTITY, description: `The newest files of the entity (its pattern, or a temporary name of one), at most ${LISTED_FILES_PER_ENTITY}, in the order runs apply them.` },
        ),
        more: Type.Optional(Count(`Matching files not listed here: older ones, and any with a name longer than ${LISTED_NAME_LENGTH}.`)),
      }),
      ['name'],
      { maxItems: LISTED_ENTITIES, description: `Per files entity (the first ${LISTED_ENTITIES}).` },
    ),
  },
  {
    description:
      "The files source's location as the controller's read probe (ExportTarget FilesReadable) last listed it; `kubectl ferry files` joins it with the recorded files to show pending ones. Not written for a PVC directory, which only a SyncJob's pod mounts.",
  },
);
export type SourceListing = Static<typeof SourceListingSchema>;

export const SyncFlowStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(Count('metadata.generation last reconciled.')),
    conditions: Type.Optional(ConditionsSchema()),
    schedules: Type.Optional(
      MapList(
        Type.Object({
          name: ScheduleName('Schedule name.'),
          lastScheduleTime: Type.Optional(Timestamp('Last time a SyncJob was created.')),
          nextScheduleTime: Type.Optional(Timestamp('Next planned run.')),
          missed: Type.Optional(Count('Runs skipped because they could not start in time.')),
        }),
        ['name'],
        { maxItems: 20 },
      ),
    ),
    lastSuccessfulRun: Type.Optional(Type.Object(lastRunPerMode, { description: 'Last successful run per mode.' })),
    activeJob: Type.Optional(LocalObjectReferenceSchema),
    categories: Type.Optional(
      Type.Object(
        Object.fromEntries(PAIR_CATEGORIES.map((c) => [c, Type.Optional(Count(`Pairs in category ${c}.`))])) as Record<PairCategory, TOptional<TInteger>>,
        { description: 'Linked pairs per category.' },
      ),
    ),
    history: Type.Optional(Type.Array(FlowHistoryEntrySchema, { maxItems: 5, description: 'Most recent runs.' })),
    lastHandledRequest: Type.Optional(
      Type.String({ maxLength: 256, description: 'Value of the last trigger annotation acted on.' }),
    ),
    lastSyncTime: Type.Optional(Timestamp('Completion of the last successful run.')),
    nextSyncTime: Type.Optional(Timestamp('Next scheduled run of any schedule.')),
    sourceListing: Type.Optional(SourceListingSchema),
  },
  { description: 'Observed state, written by the controller.' },
);
export type SyncFlowStatus = Static<typeof SyncFlowStatusSchema>;

export const SyncFlowSchema = resourceSchema('SyncFlow', SyncFlowSpecSchema, SyncFlowStatusSchema);
export type SyncFlow = Static<typeof SyncFlowSchema>;
