import { _ } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import { allCrds } from './crd.js';
import { manifestSchemaOf, schemaAjv, withSharedSubschemas } from './schema-validators.js';

/**
 * The module that replaces precompiled-validators.ts in the bundle (scripts/bundle-dist.mjs): every
 * CRD kind's validator as ajv's standalone code, compiled from the same schemas with the same options
 * as schema-check.ts compiles them at run time. `formatsModule` is the import path of
 * schema-validators.ts (SCHEMA_FORMATS) as the generated module sees it.
 */
export function validatorsModuleSource(formatsModule: string): string {
  const ajv = schemaAjv({ source: true, esm: true, formats: _`formats` });
  const kinds = allCrds().map((crd) => crd.spec.names.kind);
  for (const kind of kinds) ajv.addSchema(withSharedSubschemas(manifestSchemaOf(kind)!), kind);
  return [
    `import { SCHEMA_FORMATS as formats } from ${JSON.stringify(formatsModule)};`,
    standalone.default(ajv, Object.fromEntries(kinds.map((kind) => [kind, kind]))),
    `export const precompiledValidators = { ${kinds.join(', ')} };`,
  ].join('\n');
}
