import { removeCondition, setCondition, type Condition } from '../api/conditions.js';
import type { ExportTarget } from '../api/exporttarget.js';
import type { ProbeResult } from '../export/probe.js';

/**
 * What Ready reports: the write probe; for a ReadOnly target (a partner's location, only read by
 * files sources) the connection and listing, then the read probes of the flows reading through it.
 */
export function readyResult(target: ExportTarget, probe: ProbeResult, read: ProbeResult | undefined): ProbeResult {
  if (target.spec.access !== 'ReadOnly' || !probe.ready || !read) return probe;
  const warning = probe.warning ? { warning: probe.warning } : {};
  return read.ready ? { ...probe, message: `${probe.message}; ${read.message}` } : { ...read, ...warning };
}

/** The ExportTarget's conditions after a probe: Ready, Insecure, FilesReadable (while a files source reads through it), Stalled. */
export function exportTargetConditions(target: ExportTarget, ready: ProbeResult, read: ProbeResult | undefined, now: Date): Condition[] {
  const observedGeneration = target.metadata.generation;
  let conditions = setCondition(
    target.status?.conditions,
    { type: 'Ready', status: ready.ready ? 'True' : 'False', reason: ready.reason, message: ready.message.slice(0, 4096), observedGeneration },
    now,
  );
  conditions = ready.warning
    ? setCondition(conditions, { type: 'Insecure', status: 'True', reason: 'InsecureConfiguration', message: ready.warning, observedGeneration }, now)
    : removeCondition(conditions, 'Insecure');
  conditions = read
    ? setCondition(
        conditions,
        { type: 'FilesReadable', status: read.ready ? 'True' : 'False', reason: read.reason, message: read.message.slice(0, 4096), observedGeneration },
        now,
      )
    : removeCondition(conditions, 'FilesReadable');
  conditions = removeCondition(conditions, 'Reconciling');
  return ready.reason === 'InvalidConfig'
    ? setCondition(conditions, { type: 'Stalled', status: 'True', reason: 'InvalidConfig', message: ready.message.slice(0, 4096), observedGeneration }, now)
    : removeCondition(conditions, 'Stalled');
}
