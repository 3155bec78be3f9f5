import { Ajv, type Options } from 'ajv';
import { crdForKind } from './crd.js';
import type { JSONSchemaProps } from './structural-schema.js';

// No optimisation passes over the generated code: they took over half of the compile of the SyncFlow
// schema (1-2 s of every `ferry run`'s start-up, and ~20 MB of its peak RSS) to speed up a validation
// that runs a handful of times per process. Nor is a schema checked against the JSON Schema
// meta-schema when it is compiled (compiling the meta-schema and checking the SyncFlow schema took
// ~20-30% of the compile); the unit tests check every CRD's schema with `crdSchemaErrors` instead.
// Nor are errors verbose (each would carry its schema, parent schema and data: ~30% of the generated
// code); toValidationError looks the value and the parent schema up by the error's paths instead.
// A large subschema that occurs more than once (a SyncFlow entity's source and target sides) is
// compiled once, as a $ref (inlineRefs: false): the SyncFlow schema's code shrinks from 0.78 to 0.32
// MB and its compile from ~180 to ~125 ms of CPU.
const OPTIONS: Options = { strict: false, allErrors: true, useDefaults: true, validateSchema: false, inlineRefs: false, code: { optimize: false } };

/** The formats the CRD schemas use (precompiled validators import them from this module). */
export const SCHEMA_FORMATS = {
  'date-time': {
    type: 'string',
    validate: (value: string) =>
      /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value)),
  },
  int64: { type: 'number', validate: (value: number) => Number.isSafeInteger(value) },
  int32: { type: 'number', validate: (value: number) => Number.isInteger(value) && Math.abs(value) < 2 ** 31 },
} as const;

/** An ajv instance with the CRD schemas' options and formats; `code` adds code generation options. */
export function schemaAjv(code: Options['code'] = {}): Ajv {
  const ajv = new Ajv({ ...OPTIONS, code: { ...OPTIONS.code, ...code } });
  for (const [name, format] of Object.entries(SCHEMA_FORMATS)) ajv.addFormat(name, format);
  return ajv;
}

/**
 * Re-adds `additionalProperties: false` to every object with declared properties, so unknown
 * fields are errors as with `kubectl apply` (strict field validation) instead of being pruned.
 */
export function withStrictFields(node: JSONSchemaProps): JSONSchemaProps {
  const out: JSONSchemaProps = { ...node };
  if (out.properties) {
    out.properties = Object.fromEntries(Object.entries(out.properties).map(([k, v]) => [k, withStrictFields(v)]));
    if (out.additionalProperties === undefined) out.additionalProperties = false;
  }
  if (out.items) out.items = withStrictFields(out.items);
  if (typeof out.additionalProperties === 'object') out.additionalProperties = withStrictFields(out.additionalProperties);
  return out;
}

/** Object subschemas of at least this many characters of JSON are compiled once when repeated. */
const SHARED_MIN_CHARS = 1500;

/** `schema` with every repeated large object subschema moved to `$defs` and referenced there. */
export function withSharedSubschemas(schema: JSONSchemaProps): Record<string, unknown> {
  const count = new Map<string, number>();
  const tally = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    if ((node as JSONSchemaProps).properties) {
      const text = JSON.stringify(node);
      count.set(text, (count.get(text) ?? 0) + 1);
    }
    for (const child of Object.values(node)) tally(child);
  };
  tally(schema);
  const defs: Record<string, unknown> = {};
  const names = new Map<string, string>();
  const rewrite = (node: unknown, isRoot: boolean): unknown => {
    if (typeof node !== 'object' || node === null) return node;
    if (Array.isArray(node)) return node.map((child) => rewrite(child, false));
    if (!isRoot && (node as JSONSchemaProps).properties) {
      const text = JSON.stringify(node);
      if ((count.get(text) ?? 0) > 1 && text.length >= SHARED_MIN_CHARS) {
        let name = names.get(text);
        if (!name) {
          name = `shared${names.size}`;
          names.set(text, name);
          defs[name] = rewrite(node, true);
        }
        return { $ref: `#/$defs/${name}` };
      }
    }
    return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, rewrite(child, false)]));
  };
  const out = rewrite(schema, true) as Record<string, unknown>;
  return names.size > 0 ? { ...out, $defs: defs } : out;
}

/** The CRD schema of `kind` as it is validated: unknown fields rejected. */
export function manifestSchemaOf(kind: string): JSONSchemaProps | undefined {
  const crd = crdForKind(kind);
  return crd && withStrictFields(crd.spec.versions[0].schema.openAPIV3Schema);
}
