import { Ajv } from 'ajv';
import type { JSONSchemaProps } from '../../../src/api/index.js';

const JUNCTORS = ['allOf', 'anyOf', 'oneOf', 'not'];
/** Keywords Kubernetes rejects inside allOf/anyOf/oneOf/not (they would make the schema non-structural). */
const FORBIDDEN_IN_JUNCTORS = ['type', 'additionalProperties', 'description', 'default', 'nullable', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-embedded-resource'];
const SCALAR_TYPES = ['string', 'integer', 'number', 'boolean'];

const ajv = new Ajv({ strict: false });
ajv.addFormat('date-time', true);
ajv.addFormat('int64', { type: 'number', validate: () => true });

/**
 * The rules of a structural CRD schema (apiextensions.k8s.io/v1), plus the list-type and default
 * rules the API server enforces when the CRD is created. Returns one message per violation.
 */
export function structuralViolations(root: JSONSchemaProps): string[] {
  const problems: string[] = [];
  const visit = (node: JSONSchemaProps, at: string) => {
    const where = at || '<root>';
    if (node.$ref !== undefined) problems.push(`${where}: $ref is not allowed`);
    if ('const' in node) problems.push(`${where}: const is not supported`);
    if (node.uniqueItems === true) problems.push(`${where}: uniqueItems: true is not allowed`);
    if ('patternProperties' in node) problems.push(`${where}: patternProperties is not supported`);
    if (!node.type && node['x-kubernetes-int-or-string'] !== true && node['x-kubernetes-preserve-unknown-fields'] !== true) {
      problems.push(`${where}: missing type`);
    }
    if (node.properties && node.additionalProperties !== undefined) {
      problems.push(`${where}: additionalProperties and properties are mutually exclusive`);
    }
    if (node.additionalProperties === false) problems.push(`${where}: additionalProperties: false is not allowed`);
    if (node.type === 'array' && !node.items) problems.push(`${where}: array without items`);
    if (node.items && node.type !== 'array') problems.push(`${where}: items on a non-array`);
    if (node.properties && node.type !== 'object') problems.push(`${where}: properties on a non-object`);

    for (const junctor of JUNCTORS) {
      const branches = node[junctor];
      if (branches === undefined) continue;
      for (const branch of (Array.isArray(branches) ? branches : [branches]) as JSONSchemaProps[]) {
        for (const keyword of FORBIDDEN_IN_JUNCTORS) {
          if (keyword in branch) problems.push(`${where}: ${keyword} inside ${junctor}`);
        }
      }
    }

    const listType = node['x-kubernetes-list-type'];
    if (listType !== undefined) {
      if (node.type !== 'array') problems.push(`${where}: x-kubernetes-list-type on a non-array`);
      const items = node.items ?? {};
      if (listType === 'set' && !SCALAR_TYPES.includes(items.type ?? '')) problems.push(`${where}: set of non-scalars`);
      if (listType === 'map') {
        const keys = (node['x-kubernetes-list-map-keys'] as string[] | undefined) ?? [];
        if (items.type !== 'object') problems.push(`${where}: map list of non-objects`);
        if (keys.length === 0) problems.push(`${where}: map list without x-kubernetes-list-map-keys`);
        for (const key of keys) {
          const keySchema = items.properties?.[key];
          if (!keySchema || !SCALAR_TYPES.includes(keySchema.type ?? '')) problems.push(`${where}: map key ${key} is not a scalar property`);
          if (!(items.required ?? []).includes(key) && keySchema?.default === undefined) {
            problems.push(`${where}: map key ${key} must be required or defaulted`);
          }
        }
      }
    } else if (node['x-kubernetes-list-map-keys'] !== undefined) {
      problems.push(`${where}: x-kubernetes-list-map-keys without list-type map`);
    }

    if (node.default !== undefined) {
      const { default: value, ...schema } = node;
      if (!ajv.validate(schema, value)) problems.push(`${where}: default ${JSON.stringify(value)} does not match its schema`);
    }
    for (const rule of (node['x-kubernetes-validations'] as { rule?: unknown; message?: unknown }[] | undefined) ?? []) {
      if (typeof rule.rule !== 'string' || typeof rule.message !== 'string') problems.push(`${where}: validation rule needs rule and message`);
    }

    for (const [name, child] of Object.entries(node.properties ?? {})) visit(child, `${at}.${name}`);
    if (node.items) visit(node.items, `${at}[]`);
    if (typeof node.additionalProperties === 'object') visit(node.additionalProperties, `${at}.*`);
  };
  visit(root, '');

  const metadata = root.properties?.metadata;
  if (!metadata || metadata.type !== 'object' || Object.keys(metadata).some((k) => k !== 'type')) {
    problems.push('.metadata: must be exactly {type: object} at the root');
  }
  for (const field of ['apiVersion', 'kind']) {
    if (root.properties?.[field]?.type !== 'string') problems.push(`.${field}: must be a string at the root`);
  }
  return problems;
}
