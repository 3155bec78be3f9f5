/**
 * docs/crd-reference.md from the CRDs generated out of src/api, so the reference never drifts from the
 * schemas. Run by `npm run gen:crds`; test/unit/delivery/crd-reference.test.ts fails when it is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allCrds, type CustomResourceDefinition, type JSONSchemaProps } from '../src/api/index.js';

export const crdReferencePath = join(fileURLToPath(import.meta.url), '..', '..', 'docs', 'crd-reference.md');

interface Row {
  path: string;
  type: string;
  required: boolean;
  details: string;
}

function typeOf(node: JSONSchemaProps): string {
  if (node.type === 'array') return `[]${node.items ? typeOf(node.items) : 'any'}`;
  if (node.type === 'object' && node.additionalProperties && typeof node.additionalProperties === 'object') {
    return `map[string]${typeOf(node.additionalProperties)}`;
  }
  return String(node.type ?? 'any') + (node.format ? ` (${String(node.format)})` : '');
}

const code = (value: unknown) => `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
const escapeCell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n+/g, ' ');

function constraints(node: JSONSchemaProps): string[] {
  const out: string[] = [];
  if (node.enum) out.push(`one of ${node.enum.map(code).join(', ')}`);
  if (node.default !== undefined) out.push(`default ${code(node.default)}`);
  if (node.pattern) out.push(`pattern ${code(node.pattern)}`);
  if (node.minLength !== undefined) out.push(`min length ${String(node.minLength)}`);
  if (node.maxLength !== undefined) out.push(`max length ${String(node.maxLength)}`);
  if (node.minimum !== undefined) out.push(`minimum ${String(node.minimum)}`);
  if (node.maximum !== undefined) out.push(`maximum ${String(node.maximum)}`);
  if (node.minItems !== undefined) out.push(`min items ${String(node.minItems)}`);
  if (node.maxItems !== undefined) out.push(`max items ${String(node.maxItems)}`);
  const listKeys = node['x-kubernetes-list-map-keys'] as string[] | undefined;
  if (listKeys) out.push(`unique by ${listKeys.map(code).join(', ')}`);
  if (node['x-kubernetes-list-type'] === 'set') out.push('unique items');
  const rules = (node['x-kubernetes-validations'] as { message: string }[] | undefined) ?? [];
  for (const rule of rules) out.push(`rule: ${rule.message}`);
  return out;
}

function rows(node: JSONSchemaProps, path: string, required: boolean, out: Row[]): Row[] {
  const details = [node.description ?? '', ...constraints(node)].filter(Boolean).join('. ').replace(/\.\./g, '.');
  if (path) out.push({ path, type: typeOf(node), required, details });
  const objectNode = node.type === 'array' ? node.items : node;
  const prefix = node.type === 'array' ? `${path}[]` : path;
  // Rules on the items of a list belong to the list's row.
  if (path && objectNode && objectNode !== node && objectNode['x-kubernetes-validations']) {
    const itemRules = constraints({ 'x-kubernetes-validations': objectNode['x-kubernetes-validations'] });
    const row = out[out.length - 1];
    row.details += `${row.details ? '. ' : ''}Each item: ${itemRules.join('; ')}`;
  }
  for (const [name, child] of Object.entries(objectNode?.properties ?? {})) {
    rows(child, prefix ? `${prefix}.${name}` : name, (objectNode?.required ?? []).includes(name), out);
  }
  return out;
}

function table(root: JSONSchemaProps | undefined, prefix: string): string {
  if (!root) return '_none_\n';
  const lines = ['| Field | Type | Required | Description |', '|---|---|---|---|'];
  const topRules = constraints({ 'x-kubernetes-validations': root['x-kubernetes-validations'] });
  for (const row of rows(root, '', false, [])) {
    lines.push(`| \`${prefix}.${row.path}\` | ${escapeCell(row.type)} | ${row.required ? 'yes' : ''} | ${escapeCell(row.details)} |`);
  }
  return (topRules.length ? `Rules on \`${prefix}\`: ${topRules.map((r) => r.replace(/^rule: /, '')).join('; ')}.\n\n` : '') + lines.join('\n') + '\n';
}

function kindSection(crd: CustomResourceDefinition): string {
  const version = crd.spec.versions[0];
  const schema = version.schema.openAPIV3Schema;
  const { kind, plural, shortNames, categories } = crd.spec.names;
  const columns = version.additionalPrinterColumns.map((c) => `\`${c.name}\` (${c.jsonPath})`).join(', ');
  return [
    `## ${kind}`,
    '',
    `${schema.description ?? ''}`,
    '',
    `- API version: \`${crd.spec.group}/${version.name}\`, namespaced`,
    `- Resource: \`${plural}\`; short names ${shortNames.map((s) => `\`${s}\``).join(', ')}; categories ${categories.map((c) => `\`${c}\``).join(', ')} (\`kubectl get ferry\` lists all three kinds)`,
    `- \`kubectl get\` columns: ${columns}`,
    '',
    `### ${kind} spec`,
    '',
    table(schema.properties?.spec, 'spec'),
    `### ${kind} status`,
    '',
    'Written by the controller only.',
    '',
    table(schema.properties?.status, 'status'),
  ].join('\n');
}

export function renderCrdReference(): string {
  const crds = allCrds();
  return [
    '# CRD reference (ferry.dev/v1alpha1)',
    '',
    '<!-- Generated by scripts/gen-crd-docs.ts from src/api. Do not edit: run `npm run gen:crds`. -->',
    '',
    'Every field of the three kinds, generated from the TypeBox schemas in `src/api`, the same source',
    'as the CRDs in `crds/`. The API server enforces the types, patterns, limits and rules listed here;',
    '`ferry validate -f DIR` checks the same rules, plus the ones that need the whole flow (entity',
    'references, dependency cycles, scopes), before anything reaches a cluster.',
    '',
    ...crds.map((crd) => `- [${crd.spec.names.kind}](#${crd.spec.names.kind.toLowerCase()})`),
    '',
    crds.map(kindSection).join('\n'),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(crdReferencePath, renderCrdReference());
  console.log('wrote docs/crd-reference.md');
}
