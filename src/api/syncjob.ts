import { Type, type Static } from '@sinclair/typebox';
import {
  Column,
  Count,
  Email,
  JOB_PHASES,
  LocalObjectReferenceSchema,
  MapList,
  Message,
  Name,
  ObjectName,
  SYNC_MODES,
  SetList,
  StringEnum,
  Timestamp,
  celRules,
  resourceSchema,
} from './common.js';
import { ConditionsSchema } from './conditions.js';

export const SCOPE_MODES = ['Full', 'Incremental'] as const;
export type ScopeMode = (typeof SCOPE_MODES)[number];

export const RECORD_SIDES = ['Source', 'Target'] as const;
export type RecordSide = (typeof RECORD_SIDES)[number];

export const RESOLUTION_ACTIONS = ['KeepSource', 'KeepTarget', 'Deactivate', 'Reactivate', 'Link', 'Unlink'] as const;
export type ResolutionAction = (typeof RESOLUTION_ACTIONS)[number];

const RunId = (description: string) =>
  Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$', description });
const RecordKey = (description: string) => Type.String({ minLength: 1, maxLength: 1024, description });

export const ResolutionSchema = Type.Object(
  {
    entity: Name('Entity of the pair.'),
    sourceKey: Type.Optional(RecordKey('Key of the source record.')),
    targetKey: Type.Optional(RecordKey('Key of the target record.')),
    action: StringEnum(RESOLUTION_ACTIONS, { description: 'What to do with the pair.' }),
    fields: Type.Optional(
      SetList(Column('Column.'), { maxItems: 500, description: 'Limit KeepSource/KeepTarget to these fields.' }),
    ),
  },
  {
    description: 'A decision on one pair.',
    ...celRules({ rule: 'has(self.sourceKey) || has(self.targetKey)', message: 'sourceKey or targetKey is required' }),
  },
);
export type Resolution = Static<typeof ResolutionSchema>;

export const SyncJobSpecSchema = Type.Object(
  {
    flowRef: LocalObjectReferenceSchema,
    mode: StringEnum(SYNC_MODES, { description: 'What this run does.' }),
    scope: Type.Optional(Name('Scope of the flow to run (mode Scope).')),
    scopeMode: Type.Optional(
      StringEnum(SCOPE_MODES, { description: 'Full or Incremental within the scope (mode Scope); default Incremental.' }),
    ),
    record: Type.Optional(
      Type.Object(
        {
          entity: Name('Entity of the record.'),
          key: RecordKey('Key of the record, on the side given by side (default the source).'),
          side: Type.Optional(
            StringEnum(RECORD_SIDES, { description: 'Side the key belongs to; Target only for TwoWay flows. Default Source.' }),
          ),
        },
        { description: 'Record to sync with its required and related closure (mode Record).' },
      ),
    ),
    resolutions: Type.Optional(
      Type.Array(ResolutionSchema, { minItems: 1, maxItems: 1000, description: 'Decisions to apply (mode Resolve).' }),
    ),
    retransfer: Type.Optional(
      Type.Object(
        {
          runId: RunId('Run whose archived export file is sent again.'),
          targets: Type.Optional(
            SetList(ObjectName('ExportTarget name.'), { maxItems: 20, description: 'Only these targets; default all.' }),
          ),
        },
        { description: 'Archived export to send again (mode Retransfer).' },
      ),
    ),
    reimport: Type.Optional(
      SetList(Type.String({ minLength: 1, maxLength: 256, pattern: '^[^/\\x00]+$', description: 'File name (no directory).' }), {
        maxItems: 100,
        description:
          'Flows with a files source, modes Full and Incremental: files to import again although they were imported, by name (read where they are now, e.g. processed/). With dryRun: reports what the re-import would do and records nothing.',
      }),
    ),
    requestedBy: Type.Optional(Email('Who receives the report e-mail.')),
    dryRun: Type.Optional(
      Type.Boolean({
        description:
          'Plan and report without writing. Inserts are rolled back, but the identity, sequence or AUTO_INCREMENT values they drew in the target stay used, so the next real ids skip them.',
      }),
    ),
  },
  {
    description: 'One run of a SyncFlow.',
    ...celRules(
      { rule: "self.mode != 'Scope' || has(self.scope)", message: 'scope is required when mode is Scope' },
      { rule: "self.mode == 'Scope' || !has(self.scopeMode)", message: 'scopeMode is only used when mode is Scope' },
      { rule: "self.mode != 'Record' || has(self.record)", message: 'record is required when mode is Record' },
      { rule: "self.mode != 'Resolve' || has(self.resolutions)", message: 'resolutions are required when mode is Resolve' },
      { rule: "self.mode != 'Retransfer' || has(self.retransfer)", message: 'retransfer is required when mode is Retransfer' },
    ),
  },
);
export type SyncJobSpec = Static<typeof SyncJobSpecSchema>;

export const EntitySummarySchema = Type.Object({
  name: Name('Entity name.'),
  read: Count('Rows read.'),
  created: Count('Records created.'),
  updated: Count('Records updated.'),
  unchanged: Count('Records already in sync.'),
  archived: Count('Records archived.'),
  deleted: Count('Records deleted.'),
  rejected: Count('Rows rejected; reasons are in the report.'),
});
export type EntitySummary = Static<typeof EntitySummarySchema>;

export const TransferSummarySchema = Type.Object({
  target: ObjectName('ExportTarget name.'),
  state: Type.String({ maxLength: 64, description: 'Outcome, e.g. Succeeded or Failed.' }),
  bytes: Type.Optional(Count('Bytes transferred.')),
  message: Type.Optional(Message('Details.', 1024)),
});
export type TransferSummary = Static<typeof TransferSummarySchema>;

export const SyncJobStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(Count('metadata.generation last reconciled.')),
    conditions: Type.Optional(ConditionsSchema()),
    phase: Type.Optional(StringEnum(JOB_PHASES, { description: 'Lifecycle phase.' })),
    message: Type.Optional(Message('Human-readable state.')),
    runId: Type.Optional(RunId('Run id in the state database.')),
    estimate: Type.Optional(
      Type.Object(
        {
          seconds: Count('Estimated duration.'),
          basis: Type.String({ maxLength: 1024, description: 'What the estimate is based on.' }),
        },
        { description: 'Duration estimate.' },
      ),
    ),
    startedAt: Type.Optional(Timestamp('Start time.')),
    completedAt: Type.Optional(Timestamp('Completion time.')),
    duration: Type.Optional(Type.String({ maxLength: 64, description: 'Run time, e.g. 1m23s.' })),
    summary: Type.Optional(
      Type.Object(
        {
          entities: Type.Optional(MapList(EntitySummarySchema, ['name'], { maxItems: 200 })),
          transfers: Type.Optional(MapList(TransferSummarySchema, ['target'], { maxItems: 20 })),
        },
        { description: 'Bounded summary; the full report is in the state database.' },
      ),
    ),
    jobRef: Type.Optional(LocalObjectReferenceSchema),
    flowGeneration: Type.Optional(
      Type.Object(
        {
          admitted: Count('metadata.generation of the SyncFlow when this SyncJob was admitted; its Job runs that spec.'),
          ran: Type.Optional(Count('metadata.generation of the SyncFlow spec the Job ran.')),
        },
        { description: 'Which SyncFlow spec this run was admitted with and which it ran (they differ only when the admitted spec could not be kept).' },
      ),
    ),
    reportRef: Type.Optional(
      Type.Object(
        {
          runId: RunId('Run id of the report.'),
          configMap: Type.Optional(ObjectName('ConfigMap holding the report (<syncjob>-report).')),
        },
        { description: 'Full report.' },
      ),
    ),
    notification: Type.Optional(
      Type.Object(
        {
          state: StringEnum(['Sent', 'Retrying', 'Failed', 'Skipped'] as const, { description: 'Report e-mail outcome.' }),
          recipients: Type.Optional(SetList(Email('Recipient.'), { maxItems: 40 })),
          attempts: Type.Optional(Count('Send attempts.')),
          sentAt: Type.Optional(Timestamp('When the e-mail was accepted by the SMTP server.')),
          message: Type.Optional(Message('Why it was skipped or failed.', 1024)),
        },
        { description: 'The report e-mail, sent once per run.' },
      ),
    ),
  },
  { description: 'Observed state, written by the controller.' },
);
export type SyncJobStatus = Static<typeof SyncJobStatusSchema>;

export const SyncJobSchema = resourceSchema('SyncJob', SyncJobSpecSchema, SyncJobStatusSchema);
export type SyncJob = Static<typeof SyncJobSchema>;
