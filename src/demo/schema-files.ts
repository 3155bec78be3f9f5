import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const EXAMPLE_DIR = join('examples', 'association');

/** Where the data generator loads rows: above it tables, below it indexes and foreign keys. */
export const POST_LOAD_MARKER = '-- ferry:post-load';

/**
 * The examples/association directory of the package. Searched upwards from this module so it
 * works both from src/demo (tsx) and from the compiled dist/demo.
 */
export function associationExampleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, EXAMPLE_DIR);
    if (existsSync(join(candidate, 'source-schema.sql'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${EXAMPLE_DIR}/source-schema.sql above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export function readExampleFile(name: string): string {
  return readFileSync(join(associationExampleDir(), name), 'utf8');
}

export interface SourceSchema {
  /** CREATE TABLE statements. */
  tables: string;
  /** Indexes and foreign keys, to run once the data is in. */
  postLoad: string;
  /** Table names in creation order. */
  tableNames: string[];
}

export function sourceSchema(): SourceSchema {
  return splitSchema(readExampleFile('source-schema.sql'));
}

export function targetSchemaSql(): string {
  return readExampleFile('target-schema.sql');
}

export function splitSchema(sql: string): SourceSchema {
  const at = sql.indexOf(POST_LOAD_MARKER);
  if (at < 0) throw new Error(`source-schema.sql has no "${POST_LOAD_MARKER}" line`);
  return { tables: sql.slice(0, at), postLoad: sql.slice(at), tableNames: createdTables(sql) };
}

export function createdTables(sql: string): string[] {
  return [...sql.matchAll(/^CREATE TABLE (\w+)/gm)].map((m) => m[1]);
}
