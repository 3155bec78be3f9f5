import type { TSchema } from '@sinclair/typebox';
import { API_GROUP, API_VERSION_NAME } from './common.js';
import { ExportTargetSpecSchema, ExportTargetStatusSchema } from './exporttarget.js';
import { toStructuralSchema, type JSONSchemaProps } from './structural-schema.js';
import { SyncFlowSpecSchema, SyncFlowStatusSchema } from './syncflow.js';
import { SyncJobSpecSchema, SyncJobStatusSchema } from './syncjob.js';
import { yamlPackage } from '../util/on-demand.js';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    scope: 'Namespaced';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JSONSchemaProps };
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
    }[];
  };
}

interface KindDefinition {
  kind: string;
  plural: string;
  shortNames: string[];
  description: string;
  spec: TSchema;
  status: TSchema;
  columns: PrinterColumn[];
}

const readyColumn: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
};
const ageColumn: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

const KINDS: KindDefinition[] = [
  {
    kind: 'SyncFlow',
    plural: 'syncflows',
    shortNames: ['sf', 'sflow'],
    description: 'SyncFlow describes what Ferry syncs between two systems, and when.',
    spec: SyncFlowSpecSchema,
    status: SyncFlowStatusSchema,
    columns: [
      { name: 'Direction', type: 'string', jsonPath: '.spec.direction' },
      readyColumn,
      { name: 'Last Sync', type: 'date', jsonPath: '.status.lastSyncTime' },
      { name: 'Next Sync', type: 'date', jsonPath: '.status.nextSyncTime' },
      ageColumn,
    ],
  },
  {
    kind: 'SyncJob',
    plural: 'syncjobs',
    shortNames: ['sj', 'sjob'],
    description: 'SyncJob is one run of a SyncFlow.',
    spec: SyncJobSpecSchema,
    status: SyncJobStatusSchema,
    columns: [
      { name: 'Flow', type: 'string', jsonPath: '.spec.flowRef.name' },
      { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Duration', type: 'string', jsonPath: '.status.duration' },
      ageColumn,
    ],
  },
  {
    kind: 'ExportTarget',
    plural: 'exporttargets',
    shortNames: ['et', 'etarget'],
    description: 'ExportTarget is a file destination reached over SFTP or FTPS.',
    spec: ExportTargetSpecSchema,
    status: ExportTargetStatusSchema,
    columns: [
      { name: 'Protocol', type: 'string', jsonPath: '.spec.protocol' },
      { name: 'Host', type: 'string', jsonPath: '.spec.host' },
      readyColumn,
      ageColumn,
    ],
  },
];

function buildCrd(def: KindDefinition): CustomResourceDefinition {
  const openAPIV3Schema: JSONSchemaProps = {
    type: 'object',
    description: def.description,
    properties: {
      apiVersion: { type: 'string', description: 'Versioned schema of this representation of an object.' },
      kind: { type: 'string', description: 'REST resource this object represents.' },
      metadata: { type: 'object' },
      spec: toStructuralSchema(def.spec),
      status: toStructuralSchema(def.status),
    },
    required: ['spec'],
  };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${API_GROUP}`, labels: { 'app.kubernetes.io/part-of': 'ferry' } },
    spec: {
      group: API_GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.kind.toLowerCase(),
        shortNames: def.shortNames,
        categories: ['ferry'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: API_VERSION_NAME,
          served: true,
          storage: true,
          schema: { openAPIV3Schema },
          subresources: { status: {} },
          additionalPrinterColumns: def.columns,
        },
      ],
    },
  };
}

const byKind = (kind: string) => buildCrd(KINDS.find((k) => k.kind === kind)!);

export const syncFlowCrd = (): CustomResourceDefinition => byKind('SyncFlow');
export const syncJobCrd = (): CustomResourceDefinition => byKind('SyncJob');
export const exportTargetCrd = (): CustomResourceDefinition => byKind('ExportTarget');

export function allCrds(): CustomResourceDefinition[] {
  return KINDS.map(buildCrd);
}

/** The CRD of a Ferry kind, or undefined for other kinds. */
export function crdForKind(kind: string): CustomResourceDefinition | undefined {
  const def = KINDS.find((k) => k.kind === kind);
  return def && buildCrd(def);
}

export const crdFileName = (crd: CustomResourceDefinition): string => `${crd.spec.group}_${crd.spec.names.plural}.yaml`;

const HEADER =
  '# Generated by scripts/gen-crds.ts from src/api. Do not edit: change the schemas and run `npm run gen:crds`.\n';

/** File name (e.g. ferry.dev_syncflows.yaml) to file content, exactly as written to crds/. */
export function renderCrdYaml(): Record<string, string> {
  return Object.fromEntries(allCrds().map((crd) => [crdFileName(crd), HEADER + yamlPackage().stringify(crd, { lineWidth: 0 })]));
}
