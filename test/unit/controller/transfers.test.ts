import { describe, expect, it } from 'vitest';
import { buildRunReport } from '../../../src/engine/report.js';
import type { ExportRunReport } from '../../../src/export/run-export.js';
import { transfersOf } from '../../../src/controller/transfers.js';

/** An export run's report exactly as run-export.ts stores it in ferry.runs.report (a round trip through JSON, like jsonb). */
function exportReport(transfers: ExportRunReport['export']['transfers']): ExportRunReport {
  const report: ExportRunReport = {
    ...buildRunReport({
      runId: 'r1', flow: 'crm/loyalty', mode: 'Full', dryRun: false, startedAt: new Date(0), completedAt: new Date(1000),
      watermarksBefore: {}, watermarksAfter: {}, entities: [], rejectedSamples: [], failure: undefined,
    }),
    export: {
      result: 'SomeTransfersFailed', creationStatus: 'Complete', transferStatus: 'PartiallyFailed', exportMode: 'Snapshot',
      files: [{ id: 'f1', entity: 'members', part: 1, name: 'members.csv.gz', rows: 3, bytes: 120, sha256: 'ab'.repeat(32) }],
      transfers,
    },
  };
  return JSON.parse(JSON.stringify(report));
}

describe('SyncJob status.summary.transfers', () => {
  it('reads the per-destination outcomes from report.export.transfers', () => {
    const report = exportReport([
      { target: 'partner-sftp', file: 'members.csv.gz', fileId: 'f1', status: 'transferred', bytes: 120, remotePath: 'in/members.csv.gz', attempts: 1 },
      { target: 'partner-ftps', file: 'members.csv.gz', fileId: 'f1', status: 'failed', reason: 'Unreachable', message: 'connection refused', attempts: 4 },
    ]);
    expect(transfersOf(report)).toEqual([
      { target: 'partner-sftp', state: 'Succeeded', bytes: 120, message: '1 file transferred' },
      { target: 'partner-ftps', state: 'Failed', bytes: 0, message: 'members.csv.gz: Unreachable: connection refused' },
    ]);
  });

  it('has no transfers for sync runs, export runs that sent nothing, and runs without a report', () => {
    const { export: _omitted, ...syncReport } = exportReport([]);
    expect(transfersOf(syncReport)).toBeUndefined();
    expect(transfersOf(exportReport([]))).toBeUndefined();
    expect(transfersOf(undefined)).toBeUndefined();
  });
});
