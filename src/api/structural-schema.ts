/** An OpenAPI v3 schema node as it appears in a CRD. */
export interface JSONSchemaProps {
  type?: string;
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  [keyword: string]: unknown;
}

const DROPPED_KEYWORDS = ['$id', '$schema'];
const UNSUPPORTED_KEYWORDS = ['$ref', 'anyOf', 'oneOf', 'allOf', 'not', 'const', 'patternProperties', 'uniqueItems'];

/**
 * Converts a TypeBox schema into a structural CRD schema:
 * plain JSON (TypeBox symbols dropped), no `additionalProperties: false`, free-form maps as
 * `additionalProperties: {schema}`, and a `type` on every node. Anything a CRD cannot hold throws,
 * so a bad schema fails at generation time instead of at `kubectl apply`.
 */
export function toStructuralSchema(schema: unknown): JSONSchemaProps {
  // JSON round trip drops TypeBox's symbol-keyed metadata (Kind, OptionalKind).
  return normalise(JSON.parse(JSON.stringify(schema)) as JSONSchemaProps, '');
}

function normalise(node: JSONSchemaProps, at: string): JSONSchemaProps {
  const out: JSONSchemaProps = { ...node };
  for (const keyword of DROPPED_KEYWORDS) delete out[keyword];
  if (out.additionalProperties === false) delete out.additionalProperties;

  // TypeBox's Record(String, X) is patternProperties {'^(.*)$': X}; a CRD map is additionalProperties: X.
  const patternProperties = out.patternProperties as Record<string, JSONSchemaProps> | undefined;
  if (patternProperties) {
    const values = Object.values(patternProperties);
    if (values.length !== 1 || out.properties) throw new Error(`${at || '<root>'}: only free-form maps are supported`);
    delete out.patternProperties;
    out.additionalProperties = values[0];
  }

  for (const keyword of UNSUPPORTED_KEYWORDS) {
    if (keyword in out) throw new Error(`${at || '<root>'}: "${keyword}" cannot be used in a structural CRD schema`);
  }
  const isIntOrString = out['x-kubernetes-int-or-string'] === true;
  const preservesUnknown = out['x-kubernetes-preserve-unknown-fields'] === true;
  if (!out.type && !isIntOrString && !preservesUnknown) throw new Error(`${at || '<root>'}: schema node has no type`);

  if (out.properties) {
    out.properties = Object.fromEntries(
      Object.entries(out.properties).map(([name, child]) => [name, normalise(child, `${at}.${name}`)]),
    );
  }
  if (out.items) out.items = normalise(out.items, `${at}[]`);
  if (typeof out.additionalProperties === 'object') out.additionalProperties = normalise(out.additionalProperties, `${at}.*`);
  // A defaulted field is filled in by the API server, so it must not be required: kubectl's
  // client-side validation would otherwise reject a manifest that leaves it out.
  if (Array.isArray(out.required)) out.required = out.required.filter((name) => out.properties?.[name]?.default === undefined);
  if (Array.isArray(out.required) && out.required.length === 0) delete out.required;
  return ordered(out);
}

// A fixed keyword order keeps the generated YAML readable and diffs small.
const KEYWORD_ORDER = [
  'description', 'type', 'format', 'enum', 'default', 'pattern',
  'minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems',
];
const TRAILING_KEYWORDS = [
  'required', 'properties', 'items', 'additionalProperties',
  'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-validations',
];

function ordered(node: JSONSchemaProps): JSONSchemaProps {
  const rank = (key: string) => {
    const leading = KEYWORD_ORDER.indexOf(key);
    if (leading >= 0) return leading;
    const trailing = TRAILING_KEYWORDS.indexOf(key);
    return trailing >= 0 ? 100 + trailing : 50;
  };
  const keys = Object.keys(node).sort((a, b) => rank(a) - rank(b));
  return Object.fromEntries(keys.map((key) => [key, node[key]])) as JSONSchemaProps;
}
