import { withFlowDefaults } from './defaults.js';
import type { SyncFlow } from './syncflow.js';
import type { SyncJob } from './syncjob.js';
import { missingCursors } from './validate-flow.js';
import { fieldPath, type ValidationError } from './validation-error.js';

const MODE_FIELDS = [
  { mode: 'Scope', field: 'scope' },
  { mode: 'Record', field: 'record' },
  { mode: 'Resolve', field: 'resolutions' },
  { mode: 'Retransfer', field: 'retransfer' },
] as const;

/** Checks that need only the SyncJob itself. */
export function syncJobSpecErrors(job: SyncJob): ValidationError[] {
  const errors: ValidationError[] = [];
  const { spec } = job;
  for (const { mode, field } of MODE_FIELDS) {
    const present = spec[field] !== undefined;
    if (spec.mode === mode && !present) errors.push({ path: `spec.${field}`, message: `required when mode is ${mode}` });
    if (spec.mode !== mode && present) errors.push({ path: `spec.${field}`, message: `only used with mode ${mode}, not ${spec.mode}` });
  }
  if (spec.scopeMode !== undefined && spec.mode !== 'Scope') {
    errors.push({ path: 'spec.scopeMode', message: `only used with mode Scope, not ${spec.mode}` });
  }
  if (spec.reimport && spec.mode !== 'Full' && spec.mode !== 'Incremental') {
    errors.push({ path: 'spec.reimport', message: `only used with mode Full or Incremental, not ${spec.mode}` });
  }
  (spec.resolutions ?? []).forEach((resolution, i) => {
    if (resolution.sourceKey === undefined && resolution.targetKey === undefined) {
      errors.push({ path: fieldPath('spec', 'resolutions', i), message: 'sourceKey or targetKey is required' });
    }
  });
  return errors;
}

/** Checks of a SyncJob against the SyncFlow it runs. */
export function syncJobFlowErrors(job: SyncJob, flow: SyncFlow): ValidationError[] {
  const errors: ValidationError[] = [];
  const { spec } = job;
  const flowSpec = withFlowDefaults(flow.spec);
  const flowName = flow.metadata.name;
  const entities = new Set(flowSpec.entities.map((e) => e.name));

  if (spec.reimport && !flowSpec.source.files) {
    errors.push({ path: 'spec.reimport', message: `SyncFlow "${flowName}" has no files source` });
  }
  if (spec.scope && !flowSpec.scopes.some((s) => s.name === spec.scope)) {
    errors.push({ path: 'spec.scope', message: `unknown scope "${spec.scope}" in SyncFlow "${flowName}"` });
  }
  if (spec.record && !entities.has(spec.record.entity)) {
    errors.push({ path: 'spec.record.entity', message: `unknown entity "${spec.record.entity}" in SyncFlow "${flowName}"` });
  }
  (spec.resolutions ?? []).forEach((resolution, i) => {
    if (!entities.has(resolution.entity)) {
      errors.push({
        path: fieldPath('spec', 'resolutions', i, 'entity'),
        message: `unknown entity "${resolution.entity}" in SyncFlow "${flowName}"`,
      });
    }
  });
  if (spec.mode === 'Retransfer') {
    const exportTargets = flowSpec.target.export?.targets.map((t) => t.name);
    if (!exportTargets) {
      errors.push({ path: 'spec.mode', message: `Retransfer needs a SyncFlow with an export target; "${flowName}" has none` });
    } else {
      (spec.retransfer?.targets ?? []).forEach((name, i) => {
        if (!exportTargets.includes(name)) {
          errors.push({
            path: fieldPath('spec', 'retransfer', 'targets', i),
            message: `"${name}" is not an export target of SyncFlow "${flowName}"`,
          });
        }
      });
    }
  }
  if (spec.mode === 'Incremental') {
    const missing = missingCursors(flowSpec).map(({ index, side }) => `${flowSpec.entities[index].name}.${side}`);
    if (missing.length > 0) {
      errors.push({
        path: 'spec.mode',
        message: `Incremental needs an updatedAt column on every entity of SyncFlow "${flowName}" (missing: ${missing.join(', ')})`,
      });
    }
  }
  return errors;
}

/** Finds the SyncFlow a job refers to: same name, and same namespace when both are set. */
export function findFlowFor(job: SyncJob, flows: readonly SyncFlow[]): SyncFlow | undefined {
  const namespace = job.metadata?.namespace;
  return flows.find(
    (flow) =>
      flow.metadata?.name === job.spec.flowRef.name &&
      (namespace === undefined || flow.metadata.namespace === undefined || flow.metadata.namespace === namespace),
  );
}

/** Semantic checks of a SyncJob; `flows` are the SyncFlows it may refer to. */
export function validateSyncJob(job: SyncJob, flows: readonly SyncFlow[]): ValidationError[] {
  const flow = findFlowFor(job, flows);
  const notFound = { path: 'spec.flowRef.name', message: `SyncFlow "${job.spec.flowRef.name}" not found` };
  return [...syncJobSpecErrors(job), ...(flow ? syncJobFlowErrors(job, flow) : [notFound])];
}
