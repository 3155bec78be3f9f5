import type pg from 'pg';

/** Primary key columns of every table in the current schema. */
export async function primaryKeys(client: pg.Client): Promise<Map<string, string[]>> {
  const { rows } = await client.query<{ table: string; columns: string[] }>(
    `SELECT c.relname AS table, array_agg(a.attname::text ORDER BY k.ord) AS columns
     FROM pg_index i
     JOIN pg_class c ON c.oid = i.indrelid
     CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
     WHERE i.indisprimary AND c.relnamespace = current_schema()::regnamespace
     GROUP BY c.relname ORDER BY c.relname`,
  );
  return new Map(rows.map((r) => [r.table, r.columns]));
}

/** One md5 over each table's rows in key order: equal fingerprints mean identical contents. */
export async function tableFingerprints(client: pg.Client): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [table, keys] of await primaryKeys(client)) {
    const { rows } = await client.query<{ md5: string }>(
      `SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY ${keys.map((k) => `t.${k}`).join(', ')}), '')) AS md5 FROM ${table} t`,
    );
    out[table] = rows[0].md5;
  }
  return out;
}

/** Every row of every table as key -> md5(row). */
export async function rowSnapshot(client: pg.Client): Promise<Map<string, Map<string, string>>> {
  const out = new Map<string, Map<string, string>>();
  for (const [table, keys] of await primaryKeys(client)) {
    const key = keys.map((k) => `t.${k}::text`).join(` || '|' || `);
    const { rows } = await client.query<{ key: string; hash: string }>(`SELECT ${key} AS key, md5(t::text) AS hash FROM ${table} t`);
    out.set(table, new Map(rows.map((r) => [r.key, r.hash])));
  }
  return out;
}

export interface RowDiff {
  inserted: string[];
  updated: string[];
  deleted: string[];
}

export function diffSnapshots(before: Map<string, Map<string, string>>, after: Map<string, Map<string, string>>): Record<string, RowDiff> {
  const out: Record<string, RowDiff> = {};
  for (const table of new Set([...before.keys(), ...after.keys()])) {
    const old = before.get(table) ?? new Map<string, string>();
    const now = after.get(table) ?? new Map<string, string>();
    const diff: RowDiff = { inserted: [], updated: [], deleted: [] };
    for (const [key, hash] of now) {
      if (!old.has(key)) diff.inserted.push(key);
      else if (old.get(key) !== hash) diff.updated.push(key);
    }
    for (const key of old.keys()) if (!now.has(key)) diff.deleted.push(key);
    if (diff.inserted.length + diff.updated.length + diff.deleted.length > 0) out[table] = diff;
  }
  return out;
}
