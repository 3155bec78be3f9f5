import type { LoadedManifests } from './manifests.js';
import { manifestSource } from './manifests.js';
import { checkManifestSchema } from './schema-check.js';
import type { SyncFlow } from './syncflow.js';
import type { TableCatalog } from './validate-catalog.js';
import { exportsToReadOnlyTargets, validateExportTarget } from './validate-export-target.js';
import { validateSyncFlow } from './validate-flow.js';
import { findFlowFor, syncJobSpecErrors, validateSyncJob } from './validate-job.js';
import type { ValidationError } from './validation-error.js';

export type { TableCatalog } from './validate-catalog.js';
export { validateSyncFlow, type FlowValidationOptions } from './validate-flow.js';
export { validateSyncJob } from './validate-job.js';
export { validateExportTarget } from './validate-export-target.js';
export { formatValidationErrors, type ValidationError } from './validation-error.js';

export interface ManifestValidationOptions {
  /** One catalog for every flow, or one per flow (flows may use different databases). */
  catalog?: TableCatalog | ((flow: SyncFlow) => TableCatalog | undefined);
}

type Manifest = { kind: string; metadata?: { name?: string; namespace?: string } };

function withSource(manifest: object, errors: ValidationError[]): ValidationError[] {
  const source = manifestSource(manifest);
  return source === undefined ? errors : errors.map((e) => ({ ...e, source }));
}

function duplicateObjects(manifests: readonly Manifest[]): ValidationError[] {
  const seen = new Map<string, Manifest>();
  const errors: ValidationError[] = [];
  for (const manifest of manifests) {
    const { name, namespace } = manifest.metadata ?? {};
    if (!name) continue;
    const id = `${manifest.kind}/${namespace ?? ''}/${name}`;
    const first = seen.get(id);
    if (!first) {
      seen.set(id, manifest);
      continue;
    }
    const where = manifestSource(first);
    const message = `duplicate ${manifest.kind} "${name}"${where ? ` (also in ${where})` : ''}`;
    errors.push(...withSource(manifest, [{ path: 'metadata.name', message }]));
  }
  return errors;
}

/**
 * Validates everything loaded: load errors, the CRD schema of each manifest (as `kubectl apply`
 * would), then the semantic rules for manifests whose schema is valid. Errors carry their source file.
 */
export function validateManifests(loaded: LoadedManifests, options: ManifestValidationOptions = {}): ValidationError[] {
  const errors: ValidationError[] = [...loaded.errors];
  const schemaValid = new Set<object>();
  for (const manifest of [...loaded.flows, ...loaded.jobs, ...loaded.targets]) {
    const schemaErrors = checkManifestSchema(manifest);
    if (schemaErrors.length === 0) schemaValid.add(manifest);
    errors.push(...withSource(manifest, schemaErrors));
  }
  errors.push(...duplicateObjects([...loaded.flows, ...loaded.jobs, ...loaded.targets]));

  const validFlows = loaded.flows.filter((f) => schemaValid.has(f));
  for (const flow of validFlows) {
    const catalog = typeof options.catalog === 'function' ? options.catalog(flow) : options.catalog;
    errors.push(...withSource(flow, [...validateSyncFlow(flow, { catalog }), ...exportsToReadOnlyTargets(flow, loaded.targets)]));
  }
  for (const job of loaded.jobs.filter((j) => schemaValid.has(j))) {
    // A job whose flow has schema errors is only checked on its own; the flow's errors are reported already.
    const flowIsBroken = !findFlowFor(job, validFlows) && findFlowFor(job, loaded.flows);
    errors.push(...withSource(job, flowIsBroken ? syncJobSpecErrors(job) : validateSyncJob(job, validFlows)));
  }
  for (const target of loaded.targets.filter((t) => schemaValid.has(t))) {
    errors.push(...withSource(target, validateExportTarget(target)));
  }
  return errors;
}
