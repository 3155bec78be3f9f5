import type { ValidateFunction } from 'ajv';

/**
 * The CRD schemas' validators compiled when Ferry was built, by kind: `npm run build` replaces this
 * module in dist/bundle/ with ajv's standalone code (scripts/bundle-dist.mjs, from
 * validators-source.ts), so a `ferry run` does not compile the SyncFlow
 * schema at start (~0.1-0.15 s of CPU). Run from src/ (tsx) or tsc's dist/, there are none and
 * schema-check.ts compiles each schema when it is first needed, with the same options.
 */
export const precompiledValidators: Record<string, ValidateFunction> | undefined = undefined;
