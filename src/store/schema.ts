import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/** Everything Ferry keeps lives in its own schema of the state database. */
export const ferry = pgSchema('ferry');

export const runs = ferry.table(
  'runs',
  {
    id: text('id').primaryKey(),
    flow: text('flow').notNull(),
    mode: text('mode').notNull(),
    scope: text('scope'),
    record: text('record'),
    dryRun: boolean('dry_run').notNull().default(false),
    status: text('status').notNull(),
    requestedBy: text('requested_by'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    error: text('error'),
    watermarksBefore: jsonb('watermarks_before'),
    watermarksAfter: jsonb('watermarks_after'),
    report: jsonb('report'),
    /** Refreshed every few seconds by `ferry job` while the run is alive; the controller reads it. */
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }),
  },
  (t) => [index('runs_flow_started_idx').on(t.flow, t.startedAt)],
);

/** Per-entity counters of a run, updated as batches commit so progress is visible mid-run. */
export const runEntities = ferry.table(
  'run_entities',
  {
    runId: text('run_id').notNull().references(() => runs.id, { onDelete: 'cascade' }),
    entity: text('entity').notNull(),
    position: integer('position').notNull(),
    read: bigint('read', { mode: 'number' }).notNull().default(0),
    created: bigint('created', { mode: 'number' }).notNull().default(0),
    updated: bigint('updated', { mode: 'number' }).notNull().default(0),
    unchanged: bigint('unchanged', { mode: 'number' }).notNull().default(0),
    archived: bigint('archived', { mode: 'number' }).notNull().default(0),
    deleted: bigint('deleted', { mode: 'number' }).notNull().default(0),
    rejected: bigint('rejected', { mode: 'number' }).notNull().default(0),
    durationMs: integer('duration_ms').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.runId, t.entity] })],
);

/** Committed incremental cursor per flow and entity: `(updatedAt, key)` of the last row whose writes committed. */
export const watermarks = ferry.table(
  'watermarks',
  {
    flow: text('flow').notNull(),
    entity: text('entity').notNull(),
    cursor: text('cursor').notNull(),
    key: jsonb('key').$type<(string | null)[]>().notNull(),
    runId: text('run_id').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.flow, t.entity] })],
);

/**
 * The scope of a flow entity's pairs: the small integer ferry.pairs is keyed by (migration 0018, see
 * store/pair-scopes.ts). Never deleted, so an id is never given to another flow entity.
 */
export const pairScopes = ferry.table(
  'pair_scopes',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    flow: text('flow').notNull(),
    entity: text('entity').notNull(),
  },
  (t) => [uniqueIndex('pair_scopes_flow_entity_idx').on(t.flow, t.entity)],
);

/**
 * One linked pair per flow and entity. Keys are stored in an order-preserving text encoding
 * (see engine/keys.ts) under the "C" collation, so the pairs stream sorts exactly like the
 * source and target key streams it is merge-joined with. A pair belongs to its flow entity through
 * its scope (ferry.pair_scopes, migration 0018): row-level security, the deletions trigger and the
 * data API find the flow and entity there (migration 0020 dropped them from the row). Its pages are
 * filled to 90% (migration 0022; drizzle has no table storage options): a pair updated by a run stays
 * on its page, with no index entry.
 */
export const pairs = ferry.table(
  'pairs',
  {
    scope: integer('scope').notNull(),
    sourceKey: text('source_key').notNull(),
    targetKey: text('target_key').notNull(),
    sourceHash: text('source_hash'),
    targetHash: text('target_hash'),
    sourceCursor: text('source_cursor'),
    targetCursor: text('target_cursor'),
    lastOrigin: text('last_origin').notNull().default('source'),
    lastSyncedAt: timestamp('last_synced_at', { withTimezone: true }).notNull().defaultNow(),
    category: text('category').notNull().default('synchronised'),
    sourceGoneAt: timestamp('source_gone_at', { withTimezone: true }),
    /** Two-way: when the target row of the pair vanished. */
    targetGoneAt: timestamp('target_gone_at', { withTimezone: true }),
    /** Two-way: a change held back by the loop-protection window is applied once this time has passed. */
    heldUntil: timestamp('held_until', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.scope, t.sourceKey] }),
    index('pairs_target_key_idx').on(t.scope, t.targetKey),
    // Only gone pairs have an entry: a Full run's deletions find them without reading every pair,
    // and a pair written as synchronised costs no index insert.
    index('pairs_gone_idx')
      .on(t.scope, t.sourceKey)
      .where(sql`source_gone_at IS NOT NULL`),
  ],
);

/** A bounded sample of rejected rows per run and entity, with the reason. */
export const rejectedRows = ferry.table(
  'rejected_rows',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    runId: text('run_id').notNull().references(() => runs.id, { onDelete: 'cascade' }),
    entity: text('entity').notNull(),
    sourceKey: text('source_key'),
    reason: text('reason').notNull(),
    detail: text('detail'),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('rejected_rows_run_idx').on(t.runId, t.entity)],
);

/** Who holds a flow's advisory lock, so a refused second run can say which run is active and since when. */
export const runLocks = ferry.table('run_locks', {
  flow: text('flow').primaryKey(),
  runId: text('run_id').notNull(),
  holder: text('holder').notNull(),
  since: timestamp('since', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * A batch whose pairs were committed before its target writes. If a run dies between the two
 * commits, the next run re-checks exactly these pairs against the target.
 *
 * `source_keys` is the JSON text of the batch's keys (a first import writes one marker per 5000
 * rows and reads them back only after a crash): text, not jsonb, so PostgreSQL does not parse it,
 * and stored EXTERNAL (migration 0017), so it is not compressed either; a 1M-row import's markers
 * cost the state server 0.17 s of CPU instead of 0.5 s.
 */
export const inflightBatches = ferry.table(
  'inflight_batches',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    flow: text('flow').notNull(),
    entity: text('entity').notNull(),
    runId: text('run_id').notNull(),
    sourceKeys: text('source_keys').notNull(),
    /**
     * The token of the target transaction that writes the batch's rows (capability `transactionOutcome`,
     * PostgreSQL's transaction id), taken before the marker commits: the recovery asks the target
     * whether that transaction committed. Null on targets without the capability.
     */
    targetTransaction: text('target_transaction'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().default(sql`now()`),
  },
  (t) => [index('inflight_flow_idx').on(t.flow)],
);

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/** One export run (or re-transfer): file creation status and overall transfer status, for `ferry exports`. */
export const exportRuns = ferry.table(
  'export_runs',
  {
    runId: text('run_id').primaryKey().references(() => runs.id, { onDelete: 'cascade' }),
    flow: text('flow').notNull(),
    mode: text('mode').notNull(),
    /** The run whose files a Retransfer sends again. */
    sourceRunId: text('source_run_id'),
    creationStatus: text('creation_status').notNull(),
    transferStatus: text('transfer_status').notNull(),
    files: integer('files').notNull().default(0),
    rows: bigint('rows', { mode: 'number' }).notNull().default(0),
    bytes: bigint('bytes', { mode: 'number' }).notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('export_runs_flow_idx').on(t.flow, t.createdAt)],
);

/** A created export file; its content lives in export_file_chunks or in the archive directory. */
export const exportFiles = ferry.table(
  'export_files',
  {
    id: text('id').primaryKey(),
    runId: text('run_id').notNull(),
    flow: text('flow').notNull(),
    entity: text('entity').notNull(),
    part: integer('part').notNull(),
    name: text('name').notNull(),
    rows: bigint('rows', { mode: 'number' }).notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    /** `db` (chunks in the state DB) or the absolute path of the archived file. */
    location: text('location').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    purgedAt: timestamp('purged_at', { withTimezone: true }),
  },
  (t) => [index('export_files_run_idx').on(t.runId), index('export_files_expiry_idx').on(t.expiresAt)],
);

export const exportFileChunks = ferry.table(
  'export_file_chunks',
  {
    fileId: text('file_id').notNull().references(() => exportFiles.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    data: bytea('data').notNull(),
  },
  (t) => [primaryKey({ columns: [t.fileId, t.seq] })],
);

/** The outcome of sending one file to one ExportTarget: pending, transferring, transferred or failed. */
export const exportTransfers = ferry.table(
  'export_transfers',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    runId: text('run_id').notNull(),
    fileId: text('file_id').notNull().references(() => exportFiles.id, { onDelete: 'cascade' }),
    target: text('target').notNull(),
    status: text('status').notNull(),
    remotePath: text('remote_path'),
    bytes: bigint('bytes', { mode: 'number' }),
    durationMs: integer('duration_ms'),
    attempts: integer('attempts').notNull().default(0),
    reason: text('reason'),
    message: text('message'),
    startedAt: timestamp('started_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [index('export_transfers_run_idx').on(t.runId), index('export_transfers_file_idx').on(t.fileId)],
);

/**
 * Two-way redo log: a batch's intended writes to both systems, committed with its pairs before any
 * system is written. A run that died before all writes landed replays the missing ones next time.
 */
export const twoWayRedo = ferry.table(
  'two_way_redo',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    flow: text('flow').notNull(),
    entity: text('entity').notNull(),
    runId: text('run_id').notNull(),
    items: jsonb('items').notNull(),
    /**
     * The tokens of the batch's transactions on each side, `{"source": …, "target": …}` (capability
     * `transactionOutcome`, taken before the entry commits): the replay asks whether they committed.
     */
    sideTransactions: jsonb('side_transactions'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('two_way_redo_flow_idx').on(t.flow)],
);

/**
 * Creates through a system without transactions (an API) that were about to be sent: recorded and
 * committed before the POST, cleared in the unit that commits the new record's pair. An open intent
 * means the create may have landed; the next attempt completes it with the same idempotency key, or
 * finds the record by its match fields, before it creates anything. `side` is the side the record is
 * created on, `source_key` the encoded key of the record it copies (the other side's).
 */
export const createIntents = ferry.table(
  'create_intents',
  {
    flow: text('flow').notNull(),
    entity: text('entity').notNull(),
    side: text('side').notNull(),
    sourceKey: text('source_key').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    runId: text('run_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.flow, t.entity, t.side, t.sourceKey] })],
);

/**
 * The fields of a pair in conflict, with both values and change times, recorded by the two-way run
 * that found the conflict (bounded per pair) and cleared when the pair leaves the conflict category.
 * The data API shows them without reading either system.
 */
export const pairConflictFields = ferry.table(
  'pair_conflict_fields',
  {
    flow: text('flow').notNull(),
    entity: text('entity').notNull(),
    sourceKey: text('source_key').notNull(),
    /** The mapping's source column; `targetField` is the target column. */
    field: text('field').notNull(),
    targetField: text('target_field').notNull(),
    position: integer('position').notNull(),
    sourceValue: text('source_value'),
    targetValue: text('target_value'),
    sourceChangedAt: timestamp('source_changed_at', { withTimezone: true }),
    targetChangedAt: timestamp('target_changed_at', { withTimezone: true }),
    /** `sensitive: true` on the mapping: the data API masks the values unless the user may get pairs/unmasked. */
    sensitive: boolean('sensitive').notNull().default(false),
    runId: text('run_id').notNull(),
    detectedAt: timestamp('detected_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.flow, t.entity, t.sourceKey, t.field] })],
);

/**
 * Deleted pairs, written by a statement trigger on ferry.pairs (migration 0007) so a watch on the data
 * API can report deletions: `xid` is the deleting transaction (pg_current_xact_id) and `pair` the row
 * as it was. Kept one hour; the trigger prunes older entries.
 */
export const pairDeletions = ferry.table(
  'pair_deletions',
  {
    xid: bigint('xid', { mode: 'number' }).notNull(),
    flow: text('flow').notNull(),
    pair: jsonb('pair').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('pair_deletions_xid_idx').on(t.xid), index('pair_deletions_at_idx').on(t.at)],
);

/**
 * The PostgreSQL role of each Kubernetes namespace (created by the controller, the only holder of the
 * owner credential). Row-level security policies (store/tenant-isolation.ts) give a role the rows of
 * its own namespace only; `lock_salt` keys the namespace's flow locks so no other role can compute them.
 */
export const tenantRoles = ferry.table('tenant_roles', {
  namespace: text('namespace').primaryKey(),
  roleName: text('role_name').notNull().unique(),
  lockSalt: text('lock_salt').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  rotatedAt: timestamp('rotated_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Two-way records on one side without a partner (category `new`), kept current by the runs that see
 * them: a run that leaves a row unpaired upserts it, a run that pairs it deletes it, and a Full run
 * deletes the rows it did not meet. `match_tokens` are the normalised match values as
 * `position:value`, so partner suggestions find the other side's rows through the GIN index.
 */
export const unpairedRecords = ferry.table(
  'unpaired_records',
  {
    flow: text('flow').notNull(),
    entity: text('entity').notNull(),
    /** `source` or `target`: the side the record is on. */
    side: text('side').notNull(),
    recordKey: text('record_key').notNull(),
    /** Normalised match values in `spec.entities[].match` order (null: the row has no value there). */
    matchValues: text('match_values').array().notNull(),
    matchTokens: text('match_tokens').array().notNull(),
    /** Why no action paired it: `unmatched` (no action applies) or `duplicate` (a partner matches but link is off). */
    reason: text('reason').notNull(),
    inScope: boolean('in_scope').notNull(),
    runId: text('run_id').notNull(),
    seenAt: timestamp('seen_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.flow, t.entity, t.side, t.recordKey] }),
    index('unpaired_records_tokens_idx').using('gin', t.matchTokens),
    index('unpaired_records_run_idx').on(t.flow, t.entity, t.side, t.runId),
  ],
);

/**
 * Unpaired records that left category `new` (paired, vanished, forgotten by a Full run), kept an hour
 * for data API watches like ferry.pair_deletions (statement trigger of migration 0013).
 */
export const unpairedDeletions = ferry.table(
  'unpaired_deletions',
  {
    xid: bigint('xid', { mode: 'number' }).notNull(),
    flow: text('flow').notNull(),
    record: jsonb('record').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('unpaired_deletions_xid_idx').on(t.xid), index('unpaired_deletions_at_idx').on(t.at)],
);

/**
 * The files a files source has seen, per flow and entity: one row per file name and content
 * (SHA-256), so a file is imported once however often it is listed, and a changed file (same name,
 * new content) is a new row. `id` is the order files are applied in (the file part of an entity's
 * cursor). `status`: `pending` (taken, not yet fully imported), `imported`, `failed` (with `reason`).
 */
export const sourceFiles = ferry.table(
  'source_files',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    flow: text('flow').notNull(),
    entity: text('entity').notNull(),
    name: text('name').notNull(),
    sha256: text('sha256').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    modifiedAt: timestamp('modified_at', { withTimezone: true }).notNull(),
    /** Where the file is now, below the source's directory (moved to processed/ or failed/ when configured). */
    path: text('path').notNull(),
    status: text('status').notNull(),
    reason: text('reason'),
    runId: text('run_id'),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
    importedAt: timestamp('imported_at', { withTimezone: true }),
    /** Records the file holds, counted when a run read it to its end (null: not read, e.g. a snapshot superseded by a newer one). */
    rows: bigint('rows', { mode: 'number' }),
  },
  (t) => [
    uniqueIndex('source_files_content_idx').on(t.flow, t.entity, t.name, t.sha256),
    index('source_files_status_idx').on(t.flow, t.entity, t.status, t.id),
  ],
);

/**
 * The SyncFlow spec each SyncJob was admitted with, written by the controller when it creates the
 * Job: the Job's pod runs this spec, so an edit to the flow between admission and the pod's start
 * does not run a spec nobody admitted. The pod sets `ran_generation` when it starts.
 */
export const admittedFlows = ferry.table(
  'admitted_flows',
  {
    syncJobUid: text('sync_job_uid').primaryKey(),
    flow: text('flow').notNull(),
    generation: bigint('generation', { mode: 'number' }).notNull(),
    spec: jsonb('spec').notNull(),
    admittedAt: timestamp('admitted_at', { withTimezone: true }).notNull().defaultNow(),
    ranGeneration: bigint('ran_generation', { mode: 'number' }),
  },
  (t) => [index('admitted_flows_admitted_at_idx').on(t.admittedAt)],
);

/**
 * Which target system and table each flow entity writes, recorded at the start of every run (never
 * credentials: `postgres://host:port/database`). Two flows linking the same target rows would
 * overwrite each other's values on every run; the engine asks `ferry.shared_target_rows` (migration
 * 0012, security definer: it looks across namespaces but names only the caller's) which keys of a
 * batch another flow on the same table links.
 */
export const flowTargets = ferry.table(
  'flow_targets',
  {
    flow: text('flow').notNull(),
    entity: text('entity').notNull(),
    targetSystem: text('target_system').notNull(),
    /** `schema.table`, or `database.table` on MariaDB. */
    targetTable: text('target_table').notNull(),
    /** The target key columns, comma-separated: pairs' target keys compare only under the same columns. */
    targetKeys: text('target_keys').notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.flow, t.entity] }), index('flow_targets_table_idx').on(t.targetSystem, t.targetTable)],
);

/**
 * The records of a Delta-files side of a two-way flow, as the files applied so far leave them:
 * per key, the row of its newest line (a later position wins, so applying a file again changes
 * nothing) or null once a line marked it deleted. A delta file holds changes only, so a record
 * absent from the new files keeps its row here, and a conflict can be resolved with the file's values.
 */
export const fileSideRecords = ferry.table(
  'file_side_records',
  {
    flow: text('flow').notNull(),
    entity: text('entity').notNull(),
    key: text('key').notNull(),
    /** The line's place in file order (`FILE_POSITION_COLUMN`: file id, line; fixed width). */
    position: text('position').notNull(),
    row: jsonb('row'),
  },
  (t) => [primaryKey({ columns: [t.flow, t.entity, t.key] })],
);
