import type { ObjectMeta } from './objects.js';

/** Server-side printing (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), what `kubectl get` asks for. */
export interface Column<T> {
  name: string;
  type: 'string' | 'integer' | 'number' | 'date';
  description: string;
  priority?: number;
  cell: (item: T, now: Date) => string | number;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  includeObject: IncludeObject;
  continueToken?: string;
  resourceVersion?: string;
  /** Watch events after the first leave them out, as kube does. */
  noColumns?: boolean;
  now: Date;
}

/** `?includeObject=` (kubectl sends it for some output formats); Metadata by default, as kube does. */
export function includeObjectOf(value: string | null): IncludeObject | undefined {
  const chosen = value ?? 'Metadata';
  return chosen === 'None' || chosen === 'Metadata' || chosen === 'Object' ? chosen : undefined;
}

export function wantsTable(accept: string | undefined): boolean {
  return Boolean(accept?.split(',').some((part) => /;\s*as=Table/.test(part) && /;\s*g=meta\.k8s\.io/.test(part)));
}

/** Kubernetes' short age format: 45s, 12m, 3h, 2d4h, 40d. */
export function age(from: Date | string, now: Date): string {
  const s = Math.max(0, Math.floor((now.getTime() - new Date(from).getTime()) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60 * 3) return m < 10 ? `${m}m${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  return d < 8 && h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

export function toTable<T extends { metadata: ObjectMeta }>(
  columns: Column<T>[],
  items: T[],
  options: TableOptions,
) {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion: options.resourceVersion ?? '', ...(options.continueToken ? { continue: options.continueToken } : {}) },
    columnDefinitions: options.noColumns ? [] : columns.map((c) => ({ name: c.name, type: c.type, format: c.name === 'Name' ? 'name' : '', description: c.description, priority: c.priority ?? 0 })),
    rows: items.map((item) => ({
      cells: columns.map((c) => c.cell(item, options.now)),
      ...(options.includeObject === 'None'
        ? {}
        : { object: options.includeObject === 'Object' ? item : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: item.metadata } }),
    })),
  };
}
