import type { TransferSummary } from '../api/syncjob.js';
import type { RunReport } from '../engine/report.js';
import type { ExportRunReport } from '../export/run-export.js';
import { summariseTransfers } from '../export/summary.js';

/**
 * Export runs store an `ExportRunReport`: the per-file transfer outcomes live under `export.transfers`.
 * The report comes back from a jsonb column, so the shape is checked here rather than cast.
 */
export function isExportReport(report: RunReport): report is ExportRunReport {
  const candidate = (report as Partial<ExportRunReport>).export;
  return typeof candidate === 'object' && candidate !== null && Array.isArray(candidate.transfers);
}

/** `status.summary.transfers` of a finished SyncJob: one entry per ExportTarget, none for sync runs. */
export function transfersOf(report: RunReport | undefined): TransferSummary[] | undefined {
  if (!report || !isExportReport(report) || report.export.transfers.length === 0) return undefined;
  return summariseTransfers(report.export.transfers).slice(0, 20);
}
