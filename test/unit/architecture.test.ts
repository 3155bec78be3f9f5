import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '../..');
const src = join(repo, 'src');

function sourceFiles(under: string): string[] {
  return (readdirSync(under, { recursive: true }) as string[])
    .filter((path) => path.endsWith('.ts'))
    .map((path) => join(under, path))
    .sort();
}

function inside(path: string, folder: string): boolean {
  return path.startsWith(join(src, folder) + sep);
}

/**
 * SQL naming a state table: a FROM/INTO/UPDATE/JOIN/TABLE/COPY/TRUNCATE followed by `ferry.<table>`.
 * `ferry.dev` is the Kubernetes API group (`ferry.dev/v1alpha1`), not a table.
 */
const STATE_TABLE_SQL = /\b(?:FROM|INTO|UPDATE|JOIN|TABLE|COPY|TRUNCATE)\s+ferry\.(?!dev\b)[A-Za-z_]\w*/gi;

function stateTableSql(text: string): string[] {
  return [...text.matchAll(STATE_TABLE_SQL)].map((m) => m[0]);
}

describe('architecture', () => {
  it('the state-table detector finds SQL on ferry.* tables and ignores the ferry.dev API group', () => {
    expect(stateTableSql("await client.query(`SELECT flow FROM ferry.export_runs WHERE run_id = $1`)")).toEqual(['FROM ferry.export_runs']);
    expect(stateTableSql('insert into ferry.runs (id) values ($1)')).toEqual(['into ferry.runs']);
    expect(stateTableSql('UPDATE ferry.runs SET x = 1 FROM t JOIN\n  ferry.pairs p ON true')).toEqual(['UPDATE ferry.runs', 'JOIN\n  ferry.pairs']);
    expect(stateTableSql("apiVersion: 'ferry.dev/v1alpha1' // read from ferry.dev; group ferry.dev")).toEqual([]);
    expect(stateTableSql('// `ferry.runs.heartbeat_at` is kept fresh')).toEqual([]);
  });

  it('only src/store runs SQL on ferry.* state-database tables', () => {
    const offenders = sourceFiles(src)
      .filter((path) => !inside(path, 'store'))
      .flatMap((path) => stateTableSql(readFileSync(path, 'utf8')).map((sql) => `${relative(repo, path)}: ${sql.replace(/\s+/g, ' ')}`));
    expect(offenders).toEqual([]);
  });

  it('the sync core (src/engine) imports no database driver or Kubernetes client', () => {
    const drivers = /from\s+'(?:pg|pg-copy-streams|mysql2(?:\/[^']*)?|@kubernetes\/client-node)'/g;
    const offenders = sourceFiles(join(src, 'engine')).flatMap((path) =>
      [...readFileSync(path, 'utf8').matchAll(drivers)].map((m) => `${relative(repo, path)}: ${m[0]}`),
    );
    expect(offenders).toEqual([]);
  });
});
