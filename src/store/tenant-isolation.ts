import pg from 'pg';
import type { StateDb } from './state-connection.js';

/**
 * Row-level security on every `ferry.*` table, kept after every migration by the owner (so a table a
 * later migration adds is covered without anyone remembering to): a namespace's role sees and changes
 * only its namespace's rows, the owner all of them. FORCE binds table owners too, so only the owner
 * policy lets the owner through. That policy is `TO <schema owner> USING (true)`, a constant the
 * planner folds away: the owner's queries keep every index, even for operators PostgreSQL does not
 * call leakproof (array overlap on a GIN index), which a computed owner check would block.
 *
 * - A table with a `flow` column (`namespace/name`) is keyed by the flow's namespace.
 * - A table without one (run_entities, export_file_chunks, ...) follows its parents: a row is visible
 *   when every row it references (its foreign keys, and `run_id` in ferry.runs) is, which PostgreSQL
 *   checks through the parents' own policies.
 * - A table with neither gets the owner policy only: closed to namespaces until someone decides.
 * - A table keyed by a pair scope (ferry.pairs' `scope`, see pair-scopes.ts) is keyed by the
 *   namespace of the scope's flow (ferry.pair_scopes): a namespace sees, and writes, only rows under
 *   its own flows' scopes. Keys are unique per scope, so a row written under another namespace's
 *   scope could collide with (and so probe for) that namespace's keys: the same predicate checks writes.
 */
export const OWNER_POLICY = 'ferry_owner';
export const NAMESPACE_POLICY = 'ferry_namespace';

/** Not per-flow data: drizzle's migration journal (namespaces may read it, to check the schema is current). */
export const NOT_ISOLATED_TABLES = ['__drizzle_migrations'];

/** Keeps its own policies (migration 0008): a role reads its own row only. */
const SELF_POLICED_TABLES = ['tenant_roles'];

interface TableFacts {
  table: string;
  rls: boolean;
  forced: boolean;
  policies: string[];
  /** Whether the owner policy is (still) the schema owner's. */
  ownerPolicyCurrent: boolean;
  columns: string[];
  parents: { columns: string[]; parent: string; parentColumns: string[] }[];
}

const ident = (name: string) => pg.escapeIdentifier(name);

async function tableFacts(db: StateDb): Promise<TableFacts[]> {
  const { rows } = await db.query<TableFacts>(`
    SELECT c.relname AS "table", c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
      coalesce((SELECT array_agg(p.polname::text) FROM pg_policy p WHERE p.polrelid = c.oid), '{}') AS policies,
      EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = '${OWNER_POLICY}' AND p.polroles = ARRAY[n.nspowner]) AS "ownerPolicyCurrent",
      (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
      coalesce((SELECT json_agg(json_build_object(
          'parent', pc.relname,
          'columns', (SELECT array_agg(a.attname ORDER BY k.i) FROM unnest(f.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.n),
          'parentColumns', (SELECT array_agg(a.attname ORDER BY k.i) FROM unnest(f.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = f.confrelid AND a.attnum = k.n)))
        FROM pg_constraint f JOIN pg_class pc ON pc.oid = f.confrelid WHERE f.conrelid = c.oid AND f.contype = 'f'), '[]') AS parents
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'ferry' AND c.relkind IN ('r', 'p')
    ORDER BY c.relname`);
  return rows;
}

/** The namespace predicate of a table, or undefined when it has no way to a namespace (owner only). */
export function namespacePredicate(facts: Pick<TableFacts, 'columns' | 'parents' | 'table'>): string | undefined {
  if (facts.columns.includes('flow')) return `split_part(flow, '/', 1) = (SELECT ferry.tenant_namespace())`;
  if (PAIR_SCOPED_TABLES.includes(facts.table)) return ownScopes(facts.table);
  const parents = facts.parents.map(
    (p) => `EXISTS (SELECT 1 FROM ferry.${ident(p.parent)} x WHERE ${p.columns.map((c, i) => `x.${ident(p.parentColumns[i])} = ${ident(facts.table)}.${ident(c)}`).join(' AND ')})`,
  );
  const runReferenced = facts.parents.some((p) => p.parent === 'runs' && p.columns.length === 1 && p.columns[0] === 'run_id');
  if (facts.columns.includes('run_id') && facts.table !== 'runs' && !runReferenced) {
    parents.push(`EXISTS (SELECT 1 FROM ferry.runs x WHERE x.id = ${ident(facts.table)}.run_id)`);
  }
  return parents.length > 0 ? parents.join(' AND ') : undefined;
}

/** Tables keyed by a pair scope (`scope`, no `flow`): see ownScopes. */
const PAIR_SCOPED_TABLES = ['pairs'];

/**
 * The row's scope is one of the namespace's flows'. Not correlated with the row: the planner reads the
 * namespace's scopes once per statement and probes them hashed, row by row (an EXISTS per row would
 * look each scope up again).
 */
function ownScopes(table: string): string {
  const scopes = `SELECT s.id FROM ferry.pair_scopes s WHERE split_part(s.flow, '/', 1) = (SELECT ferry.tenant_namespace())`;
  return `${ident(table)}.scope IN (${scopes})`;
}

/**
 * Enables and forces row-level security and creates the owner and namespace policies where missing.
 * Owner only (it is DDL); a no-op when everything is in place, so it costs one catalog query per start.
 * What is missing goes as one query (PostgreSQL runs it as one implicit transaction: all or nothing)
 * instead of one round trip per statement: a fresh state database takes ~4 statements per table,
 * 0.1-0.3 s of a first `ferry run`'s start-up on a loaded machine when sent one by one.
 */
export async function applyTenantIsolation(db: StateDb): Promise<void> {
  const owner = (await db.query<{ owner: string }>(`SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'ferry'`)).rows[0].owner;
  const statements = (await tableFacts(db)).flatMap((facts) => isolationStatements(facts, owner));
  if (statements.length > 0) await db.query(statements.join(';\n'));
}

/** The statements that isolate one table as `applyTenantIsolation` describes; none when it already is (or is not isolated). */
function isolationStatements(facts: TableFacts, owner: string): string[] {
  if (NOT_ISOLATED_TABLES.includes(facts.table) || SELF_POLICED_TABLES.includes(facts.table)) return [];
  const table = `ferry.${ident(facts.table)}`;
  const statements: string[] = [];
  if (!facts.rls) statements.push(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`);
  if (!facts.forced) statements.push(`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`);
  if (!facts.ownerPolicyCurrent) {
    if (facts.policies.includes(OWNER_POLICY)) statements.push(`DROP POLICY ${OWNER_POLICY} ON ${table}`);
    statements.push(`CREATE POLICY ${OWNER_POLICY} ON ${table} TO ${ident(owner)} USING (true) WITH CHECK (true)`);
  }
  const predicate = namespacePredicate(facts);
  if (predicate && !facts.policies.includes(NAMESPACE_POLICY)) {
    statements.push(`CREATE POLICY ${NAMESPACE_POLICY} ON ${table} USING (${predicate}) WITH CHECK (${predicate})`);
  }
  return statements;
}

/** Every `ferry.*` table and whether it is isolated, for the tests that fail when one is not. */
export async function isolationOfTables(db: StateDb): Promise<{ table: string; rls: boolean; forced: boolean; policies: string[] }[]> {
  return (await tableFacts(db)).map(({ table, rls, forced, policies }) => ({ table, rls, forced, policies }));
}
