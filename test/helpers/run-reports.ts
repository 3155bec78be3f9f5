/**
 * Run reports shaped like the ones the engine writes, for the summary's tests: the association demo's
 * Full run (2,000 people and 8,876 related rows in 54 entities, most of them idle), a run with rejected
 * rows, a failed run and an export with one failed destination.
 */
import { totalsOf, type EntityReport, type RunReport } from '../../src/engine/report.js';
import type { ExportRunReport } from '../../src/export/run-export.js';

export function entityReport(name: string, counts: Partial<EntityReport> = {}): EntityReport {
  return { name, read: 0, created: 0, updated: 0, unchanged: 0, archived: 0, deleted: 0, rejected: 0, linked: 0, skipped: 0, sourceGone: 0, durationMs: 4, notes: [], ...counts };
}

function report(entities: EntityReport[], rest: Partial<RunReport> = {}): RunReport {
  return {
    runId: 'association-full.7f3a9c1e.1',
    flow: 'default/association',
    mode: 'Full',
    dryRun: false,
    status: 'Succeeded',
    startedAt: '2026-11-22T10:00:00.000Z',
    completedAt: '2026-11-22T10:00:01.700Z',
    durationMs: 1700,
    watermarksBefore: {},
    watermarksAfter: {},
    entities,
    totals: totalsOf(entities),
    rejectedSamples: [],
    ...rest,
  };
}

/** The 8,876 related rows of the demo's first Full run, over 22 child entities; 31 lookups had nothing to do. */
const RELATED: [string, number][] = [
  ['firms', 100], ['events', 20], ['email_preferences', 1000], ['group_memberships', 300], ['person_interests', 800],
  ['person_languages', 300], ['subscriptions', 600], ['person_member_sources', 400], ['person_sectors', 400],
  ['person_skills', 600], ['special_needs', 40], ['volunteer_preferences', 160], ['volunteer_skills', 160],
  ['volunteer_tags', 200], ['dues_balances', 1200], ['chapter_balances', 400], ['product_balances', 340],
  ['registrations', 1000], ['event_balances', 400], ['event_leaders', 30], ['event_sessions', 60], ['related_events', 366],
];

export const IDLE_LOOKUPS = Array.from({ length: 31 }, (_, i) => `lookup_${String(i + 1).padStart(2, '0')}`);

export function demoFullReport(): RunReport {
  return report([
    ...IDLE_LOOKUPS.map((name) => entityReport(name, { read: 4, unchanged: 4 })),
    entityReport('people', { read: 2000, created: 2000, durationMs: 610 }),
    ...RELATED.map(([name, n]) => entityReport(name, { read: n, created: n, durationMs: 20 })),
  ]);
}

/** 12 rows refused by the target (values too long, a missing parent), the rest written. */
export function partialRejectsReport(): RunReport {
  const reasons = Array.from({ length: 12 }, (_, i) => ({
    entity: i < 9 ? 'people' : 'registrations',
    key: i < 9 ? String(1000 + i) : `r-${i}`,
    reason: i < 9 ? `column email: value too long for type character varying(120)` : 'registrations.person_id: no linked people row for key 77',
  }));
  return report(
    [
      ...IDLE_LOOKUPS.slice(0, 5).map((name) => entityReport(name, { read: 4, unchanged: 4 })),
      entityReport('people', { read: 240, created: 3, updated: 228, unchanged: 0, rejected: 9, durationMs: 140 }),
      entityReport('registrations', { read: 52, created: 49, rejected: 3, durationMs: 30 }),
    ],
    { mode: 'Incremental', rejectedSamples: reasons.slice(0, 10), durationMs: 420, completedAt: '2026-11-22T10:00:00.420Z' },
  );
}

export const TARGET_PASSWORD = 'hunter2-Target!';

/** The target database went away during the run; its address carries a password. */
export function failedReport(): RunReport {
  return report(
    [
      ...IDLE_LOOKUPS.slice(0, 3).map((name) => entityReport(name, { read: 4, unchanged: 4 })),
      entityReport('people', { read: 500, created: 500, durationMs: 300 }),
      entityReport('firms', { read: 0 }),
    ],
    {
      status: 'Failed',
      durationMs: 5000,
      completedAt: '2026-11-22T10:00:05.000Z',
      error: `cannot connect to the target database at postgres://ferry:${TARGET_PASSWORD}@db.internal:5432/website: Connection terminated unexpectedly`,
    },
  );
}

/** A Changes export: two files, sent to one destination and refused by the other. */
export function exportReport(): ExportRunReport {
  const files = [
    { id: 'f1', entity: 'members', part: 1, name: 'members-20261122.csv.gz', rows: 1200, bytes: 48213, sha256: 'a'.repeat(64) },
    { id: 'f2', entity: 'payments', part: 1, name: 'payments-20261122.csv.gz', rows: 300, bytes: 9120, sha256: 'b'.repeat(64) },
  ];
  const base = report([entityReport('members', { read: 1200, created: 1200 }), entityReport('payments', { read: 300, created: 300 })], {
    flow: 'default/loyalty-export',
    mode: 'Changes',
    status: 'Failed',
    error: 'file created, 2 of 4 transfers failed: partner-ftps: members-20261122.csv.gz: AuthFailed: 530 Login incorrect',
  });
  return {
    ...base,
    export: {
      result: 'SomeTransfersFailed',
      creationStatus: 'Complete',
      transferStatus: 'PartiallyFailed',
      exportMode: 'Changes',
      files,
      transfers: [
        { target: 'backup-sftp', file: files[0].name, fileId: 'f1', status: 'transferred', remotePath: '/in/members-20261122.csv.gz', bytes: 48213, attempts: 1 },
        { target: 'backup-sftp', file: files[1].name, fileId: 'f2', status: 'transferred', remotePath: '/in/payments-20261122.csv.gz', bytes: 9120, attempts: 1 },
        { target: 'partner-ftps', file: files[0].name, fileId: 'f1', status: 'failed', attempts: 4, reason: 'AuthFailed', message: '530 Login incorrect' },
        { target: 'partner-ftps', file: files[1].name, fileId: 'f2', status: 'failed', attempts: 4, reason: 'AuthFailed', message: '530 Login incorrect' },
      ],
    },
  };
}
