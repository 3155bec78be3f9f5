import type { ErrorObject, ValidateFunction } from 'ajv';
import { DNS1123_SUBDOMAIN_PATTERN } from './common.js';
import { precompiledValidators } from './precompiled-validators.js';
import { manifestSchemaOf, schemaAjv, withSharedSubschemas } from './schema-validators.js';
import type { JSONSchemaProps } from './structural-schema.js';
import { fieldPath, type ValidationError } from './validation-error.js';

export { withStrictFields } from './schema-validators.js';

/** Compiles a schema that has no precompiled validator (run from src/ or tsc's dist/), and checks schemas. */
let ajvInstance: ReturnType<typeof schemaAjv> | undefined;
const ajv = () => (ajvInstance ??= schemaAjv());

interface Validator {
  validate: ValidateFunction;
  /** The schema as written (without $refs), for an error's parent schema. */
  schema: JSONSchemaProps;
}
const validators = new Map<string, Validator>();

/** The JSON Schema meta-schema's errors for `schema` (none expected of a CRD's): the check the compile leaves out. */
export function metaSchemaErrors(schema: JSONSchemaProps): ErrorObject[] {
  return ajv().validateSchema(schema) ? [] : (ajv().errors ?? []);
}

/** The meta-schema errors of the schema `checkManifestSchema` compiles for `kind`. */
export function crdSchemaErrors(kind: string): ErrorObject[] {
  const schema = manifestSchemaOf(kind);
  if (!schema) throw new Error(`unknown kind ${kind}`);
  return metaSchemaErrors(schema);
}

function validatorFor(kind: string): Validator | undefined {
  if (!validators.has(kind)) {
    const schema = manifestSchemaOf(kind);
    if (!schema) return undefined;
    validators.set(kind, { validate: precompiledValidators?.[kind] ?? ajv().compile(withSharedSubschemas(schema)), schema });
  }
  return validators.get(kind);
}

function instancePath(pointer: string): (string | number)[] {
  return pointer
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

function suggestion(unknown: string, known: string[]): string {
  const best = known
    .map((name) => ({ name, distance: editDistance(unknown.toLowerCase(), name.toLowerCase()) }))
    .sort((a, b) => a.distance - b.distance)[0];
  return best && best.distance <= Math.max(2, Math.floor(unknown.length / 3)) ? ` (did you mean "${best.name}"?)` : '';
}

/** What is at `segments` under `root`: a value of the manifest, or a subschema. */
function at(root: unknown, segments: (string | number)[]): unknown {
  let node = root;
  for (const segment of segments) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[segment] : undefined;
  return node;
}

/** The subschema that validates the value at `segments` (a structural schema: properties, items, maps). */
function schemaAtInstance(schema: JSONSchemaProps, segments: (string | number)[]): JSONSchemaProps | undefined {
  let node: JSONSchemaProps | undefined = schema;
  for (const segment of segments) {
    if (!node) return undefined;
    if (typeof segment === 'number' && node.items) node = node.items;
    else if (node.properties && String(segment) in node.properties) node = node.properties[String(segment)];
    else node = typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
  }
  return node;
}

function toValidationError(error: ErrorObject, data: unknown, schema: JSONSchemaProps): ValidationError {
  const segments = instancePath(error.instancePath);
  const value = JSON.stringify(at(data, segments));
  switch (error.keyword) {
    case 'required':
      return { path: fieldPath(...segments, error.params.missingProperty), message: 'required field is missing' };
    case 'additionalProperties': {
      const name = String(error.params.additionalProperty);
      const known = Object.keys(schemaAtInstance(schema, segments)?.properties ?? {});
      return { path: fieldPath(...segments, name), message: `unknown field "${name}"${suggestion(name, known)}` };
    }
    case 'enum':
      return {
        path: fieldPath(...segments),
        message: `unsupported value ${value}: must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`,
      };
    case 'pattern':
      return { path: fieldPath(...segments), message: `invalid value ${value}: must match ${error.params.pattern}` };
    case 'type':
      return { path: fieldPath(...segments), message: `must be ${error.params.type}, got ${value}` };
    case 'format':
      return { path: fieldPath(...segments), message: `invalid value ${value}: must be a ${error.params.format}` };
    default:
      return { path: fieldPath(...segments), message: error.message ?? `failed ${error.keyword}` };
  }
}

function metadataErrors(metadata: unknown): ValidationError[] {
  if (typeof metadata !== 'object' || metadata === null) return [{ path: 'metadata', message: 'required field is missing' }];
  const { name, generateName } = metadata as Record<string, unknown>;
  if (name === undefined) {
    return typeof generateName === 'string' ? [] : [{ path: 'metadata.name', message: 'required field is missing' }];
  }
  if (typeof name !== 'string' || name.length > 253 || !new RegExp(DNS1123_SUBDOMAIN_PATTERN).test(name)) {
    return [
      { path: 'metadata.name', message: `invalid name ${JSON.stringify(name)}: must be a lowercase DNS-1123 subdomain` },
    ];
  }
  return [];
}

/**
 * Checks a manifest against its generated CRD schema as the API server would (defaults applied
 * first, unknown fields rejected). CEL rules are not evaluated here; validate.ts repeats them.
 */
export function checkManifestSchema(manifest: unknown): ValidationError[] {
  const kind = (manifest as { kind?: unknown } | null)?.kind;
  const validator = typeof kind === 'string' ? validatorFor(kind) : undefined;
  if (!validator) return [{ path: 'kind', message: `unknown kind ${JSON.stringify(kind)}` }];
  const { validate, schema } = validator;
  // useDefaults mutates its input; the caller's object stays as written.
  const copy = structuredClone(manifest) as Record<string, unknown>;
  const errors = validate(copy) ? [] : (validate.errors ?? []).map((error) => toValidationError(error, copy, schema));
  return [...metadataErrors(copy.metadata), ...errors];
}
