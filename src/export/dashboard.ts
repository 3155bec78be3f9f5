import { TableClass } from '../util/on-demand.js';
import type { ExportInstance } from './history.js';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** The dashboard: one line per export instance with its creation and transfer status and each destination's outcome. */
export function renderInstances(flow: string, instances: ExportInstance[]): string {
  if (instances.length === 0) return `${flow}: no exports yet`;
  const Table = TableClass();
  const table = new Table({
    head: ['run', 'created', 'mode', 'creation', 'transfer', 'files', 'rows', 'size', 'destinations'],
    style: { head: [], border: [] },
  });
  for (const i of instances) {
    const targets = [...new Set(i.transfers.map((t) => t.target))].map((target) => {
      const own = i.transfers.filter((t) => t.target === target);
      const failed = own.find((t) => t.status !== 'transferred');
      return failed ? `${target}: ${failed.status}${failed.reason ? ` (${failed.reason})` : ''}` : `${target}: transferred`;
    });
    table.push([
      i.runId,
      i.createdAt.toISOString().replace('T', ' ').slice(0, 19),
      i.sourceRunId ? `Retransfer of ${i.sourceRunId.slice(0, 8)}` : i.mode,
      i.creationStatus,
      i.transferStatus,
      String(i.files),
      String(i.rows),
      formatBytes(i.bytes),
      targets.join('\n'),
    ]);
  }
  return `${flow}\n${table.toString()}`;
}

