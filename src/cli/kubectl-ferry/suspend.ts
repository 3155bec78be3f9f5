/**
 * suspend / resume: the JSON Patch for a flow or one schedule, and the note shown when a GitOps tool
 * owns the SyncFlow (its next reconcile would undo a kubectl change, so the change belongs in Git).
 */
import type { SyncFlow } from '../../api/syncflow.js';
import { ConfigError } from '../../util/errors.js';

export type JsonPatchOperation =
  | { op: 'test'; path: string; value: unknown }
  | { op: 'add' | 'replace'; path: string; value: unknown };

/** Patch that sets spec.suspend, or spec.schedules[i].suspend for the named schedule. */
export function suspendPatch(flow: SyncFlow, suspend: boolean, scheduleName?: string): JsonPatchOperation[] {
  if (scheduleName === undefined) return [{ op: 'add', path: '/spec/suspend', value: suspend }];
  const schedules = flow.spec.schedules ?? [];
  const index = schedules.findIndex((s) => s.name === scheduleName);
  if (index < 0) {
    const known = schedules.map((s) => s.name).join(', ') || 'none';
    throw new ConfigError(`SyncFlow ${flow.metadata.name} has no schedule "${scheduleName}" (schedules: ${known})`);
  }
  // The test guards against the list changing between our read and the patch.
  return [
    { op: 'test', path: `/spec/schedules/${index}/name`, value: scheduleName },
    { op: 'add', path: `/spec/schedules/${index}/suspend`, value: suspend },
  ];
}

export interface GitOpsOwner {
  tool: 'Flux' | 'Argo CD';
  /** e.g. "flux-system/ferry-schedules" */
  name: string;
}

/** Flux and Argo CD mark what they apply; either mark means the object is managed from Git. */
export function gitOpsOwner(flow: Pick<SyncFlow, 'metadata'>): GitOpsOwner | undefined {
  const labels = flow.metadata.labels ?? {};
  const annotations = flow.metadata.annotations ?? {};
  const fluxKustomization = labels['kustomize.toolkit.fluxcd.io/name'];
  if (fluxKustomization) {
    const namespace = labels['kustomize.toolkit.fluxcd.io/namespace'];
    return { tool: 'Flux', name: namespace ? `${namespace}/${fluxKustomization}` : fluxKustomization };
  }
  const fluxHelmRelease = labels['helm.toolkit.fluxcd.io/name'];
  if (fluxHelmRelease) {
    const namespace = labels['helm.toolkit.fluxcd.io/namespace'];
    return { tool: 'Flux', name: namespace ? `${namespace}/${fluxHelmRelease}` : fluxHelmRelease };
  }
  const argoApp = labels['argocd.argoproj.io/instance'] ?? annotations['argocd.argoproj.io/tracking-id']?.split(':')[0];
  if (argoApp) return { tool: 'Argo CD', name: argoApp };
  return undefined;
}

/** The advice printed next to a suspend/resume of a GitOps-managed flow. */
export function gitOpsNote(flow: SyncFlow, owner: GitOpsOwner, suspend: boolean, scheduleName?: string): string {
  const field = scheduleName === undefined ? 'spec.suspend' : `spec.schedules[name=${scheduleName}].suspend`;
  const yaml =
    scheduleName === undefined
      ? `  spec:\n    suspend: ${suspend}`
      : `  spec:\n    schedules:\n      - name: ${scheduleName}\n        suspend: ${suspend}`;
  const undo =
    owner.tool === 'Flux'
      ? `Flux Kustomization ${owner.name} reapplies Git on its next reconcile and will undo this`
      : `Argo CD Application ${owner.name} shows the flow OutOfSync, and self-heal (if enabled) will undo this`;
  return [
    `note: SyncFlow ${flow.metadata.name} is managed by ${owner.tool} (${owner.name}); ${field} is a GitOps-managed field.`,
    `  ${undo}.`,
    `  Make the change in Git instead, e.g. in the flow's manifest or an overlay patch:`,
    yaml,
  ].join('\n');
}
