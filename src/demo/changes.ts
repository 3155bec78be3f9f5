import pg from 'pg';
import { ident } from '../util/sql.js';
import { DEFAULT_SEED } from './generate.js';
import { referencedLookupSize as size } from './lookups.js';
import { FIRST_NAMES, LAST_NAMES, emailNameParts } from './names.js';
import { TIMELINE } from './plan.js';
import { sourceSchema } from './schema-files.js';
import { SqlNoise } from './sql-noise.js';

export interface ChangeOptions {
  /** People to update; firms, events, some child tables and two lookups change in proportion. */
  updates: number;
  /** People to add, each with a dues balance and an e-mail preference (every other one a registration), plus one new city. */
  inserts?: number;
  /** People to delete together with every row that depends on them, plus some child rows and one unused lookup. */
  deletes?: number;
  seed?: number;
  /**
   * updated_at of the first changed rows; rows are stamped in groups of four sharing one
   * timestamp, one second apart. Default: the whole hour after the newest updated_at in the
   * database, so repeated calls keep moving forward and stay deterministic.
   */
  at?: Date;
}

export interface TableChanges {
  inserted: number;
  updated: number;
  deleted: number;
}

export interface ChangeSummary {
  /** First updated_at stamped (ISO 8601). */
  at: string;
  /** Last updated_at stamped (ISO 8601). */
  until: string;
  /** Only tables that changed. */
  tables: Record<string, TableChanges>;
  total: TableChanges;
}

/** Rows stamped with the same updated_at, so incremental reads must handle ties. */
const ROWS_PER_TIMESTAMP = 4;

/**
 * Changes rows of the generated association database deterministically: the same database
 * state and options always give the same changes. Deletes run first, then updates (of rows
 * that survived), then inserts; everything in one transaction.
 */
export async function applyDemoChanges(sourceUrl: string, opts: ChangeOptions): Promise<ChangeSummary> {
  const updates = count(opts.updates, 'updates');
  const inserts = count(opts.inserts ?? 0, 'inserts');
  const deletes = count(opts.deletes ?? 0, 'deletes');
  const client = new pg.Client({ connectionString: sourceUrl });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL TimeZone = 'UTC'`);
    const at = opts.at ?? (await nextWholeHour(client));
    const changes = new ChangeSet(client, new SqlNoise(opts.seed ?? DEFAULT_SEED), at);
    await deletePeople(changes, deletes);
    await updateRows(changes, updates);
    await insertPeople(changes, inserts);
    await client.query('COMMIT');
    return changes.summary();
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    await client.end();
  }
}

function count(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}

/** Accumulates per-table counts and hands out timestamps and row choices. */
class ChangeSet {
  private readonly tables: Record<string, TableChanges> = {};
  private lastStamp: number;
  /** Different for every `at`, so successive calls pick different rows. */
  private readonly round: string;

  constructor(
    readonly client: pg.Client,
    readonly noise: SqlNoise,
    readonly at: Date,
  ) {
    this.lastStamp = at.getTime();
    this.round = String(Math.floor(at.getTime() / 1000));
  }

  tag(name: string): string {
    return `changes.${this.round}.${name}`;
  }

  /** SQL for the updated_at of the ord-th (1-based) changed row of a table. */
  stamp(ord: string): string {
    return `(TIMESTAMPTZ '${this.at.toISOString()}' + ((${ord} - 1) / ${ROWS_PER_TIMESTAMP}) * INTERVAL '1 second')`;
  }

  /** A CTE body choosing `n` pseudo-random rows of `table` (by id) and numbering them 1..n as `ord`. */
  choose(table: string, n: number, where = 'true'): string {
    const h = this.noise.int('id', this.tag(`${table}.choose`));
    return `SELECT id, row_number() OVER (ORDER BY h, id) AS ord
            FROM (SELECT id, ${h} AS h FROM ${ident(table)} WHERE ${where} ORDER BY h, id LIMIT ${n}) AS picked`;
  }

  async run(table: string, kind: keyof TableChanges, sql: string, params: unknown[] = []): Promise<number> {
    const result = await this.client.query(sql, params);
    const rows = result.rowCount ?? 0;
    if (rows > 0) {
      const entry = (this.tables[table] ??= { inserted: 0, updated: 0, deleted: 0 });
      entry[kind] += rows;
      if (kind !== 'deleted') this.lastStamp = Math.max(this.lastStamp, this.at.getTime() + Math.floor((rows - 1) / ROWS_PER_TIMESTAMP) * 1000);
    }
    return rows;
  }

  summary(): ChangeSummary {
    const total: TableChanges = { inserted: 0, updated: 0, deleted: 0 };
    for (const entry of Object.values(this.tables)) {
      total.inserted += entry.inserted;
      total.updated += entry.updated;
      total.deleted += entry.deleted;
    }
    const tables = Object.fromEntries(Object.keys(this.tables).sort().map((t) => [t, this.tables[t]]));
    return { at: this.at.toISOString(), until: new Date(this.lastStamp).toISOString(), tables, total };
  }
}

async function nextWholeHour(client: pg.Client): Promise<Date> {
  const maxima = sourceSchema().tableNames.map((t) => `(SELECT max(updated_at) FROM ${ident(t)})`);
  const { rows } = await client.query<{ newest: Date | null }>(`SELECT greatest(${maxima.join(', ')}) AS newest`);
  const newest = rows[0].newest?.getTime() ?? TIMELINE.asOf;
  const hour = 3_600_000;
  return new Date((Math.floor(newest / hour) + 1) * hour);
}

async function updateRows(c: ChangeSet, people: number): Promise<void> {
  if (people === 0) return;
  const share = (divisor: number) => Math.ceil(people / divisor);
  const update = (table: string, n: number, set: string) =>
    c.run(table, 'updated', `WITH chosen AS (${c.choose(table, n)})
      UPDATE ${ident(table)} AS t SET ${set}, updated_at = ${c.stamp('chosen.ord')}
      FROM chosen WHERE t.id = chosen.id`);

  await update('people', people, `
    member_status = CASE t.member_status WHEN 'Member' THEN 'Lapsed' WHEN 'Lapsed' THEN 'Member'
                    WHEN 'Friend' THEN 'Member' ELSE 'Friend' END,
    phone = '+1' || (2005550000 + ${c.noise.below(800, 't.id', c.tag('people.area'))} * 10000000 + ${c.noise.below(10000, 't.id', c.tag('people.phone'))}),
    chapter_id = CASE WHEN chosen.ord % 3 = 0 THEN coalesce(t.chapter_id, 0) % ${size('chapters')} + 1 ELSE t.chapter_id END,
    email = CASE WHEN chosen.ord % 10 = 0 THEN split_part(t.email, '@', 1) || '@members.example.org' ELSE t.email END`);
  await update('firms', share(20), `employee_count = t.employee_count + 1`);
  await update('events', share(50), `capacity = coalesce(t.capacity, 0) + 10, event_status_id = t.event_status_id % ${size('event_statuses')} + 1`);
  await update('dues_balances', share(4), `paid = NOT t.paid, amount = t.amount + 1`);
  await update('registrations', share(10), `status = CASE t.status WHEN 'Registered' THEN 'Attended' ELSE 'Registered' END`);
  await update('product_balances', share(20), `amount = t.amount + 5`);
  await update('event_sessions', share(50), `room = CASE WHEN t.room IS NULL THEN 'Main hall' END`);
  for (const lookup of ['cities', 'chapters']) {
    await update(lookup, 1, `name = CASE WHEN t.name LIKE '% (renamed)' THEN left(t.name, -10) ELSE t.name || ' (renamed)' END`);
  }
}

async function insertPeople(c: ChangeSet, n: number): Promise<void> {
  if (n === 0) return;
  const noise = c.noise;
  const tag = (name: string) => c.tag(`insert.${name}`);
  const { rows } = await c.client.query<{ people: string; cities: string; firms: string; events: string }>(
    `SELECT (SELECT coalesce(max(id), 0) FROM people) AS people, (SELECT coalesce(max(id), 0) FROM cities) AS cities,
            (SELECT coalesce(max(id), 0) FROM firms) AS firms, (SELECT coalesce(max(id), 0) FROM events) AS events`,
  );
  const base = { people: Number(rows[0].people), city: Number(rows[0].cities) + 1, firms: Number(rows[0].firms), events: Number(rows[0].events) };

  // A city the website has never seen, required by the first new person.
  await c.run('cities', 'inserted', `INSERT INTO cities (id, code, name, updated_at) VALUES ($1, $2, $3, ${c.stamp('1')})`,
    [base.city, `NEW-${base.city}`, `New City ${base.city}`]);

  const id = `(${base.people} + k)`;
  const email = emailNameParts(noise, id, { first: tag('first'), last: tag('last'), domain: tag('domain') });
  await c.run('people', 'inserted', `
    INSERT INTO people (id, first_name, last_name, email, member_status, is_firm_admin, gender_id, state_id, city_id,
                        firm_id, person_type_id, billing_class_id, created_at, updated_at)
    SELECT ${id}, ${noise.pick(FIRST_NAMES, id, tag('first'))}, ${noise.pick(LAST_NAMES, id, tag('last'))},
           ${email.lowerLocal} || ${id} || '@' || ${email.lowerDomain}, 'Prospect', false,
           ${noise.id(size('genders'), id, tag('gender'))}, ${noise.id(size('states'), id, tag('state'))},
           CASE WHEN k = 1 THEN ${base.city} ELSE ${noise.id(size('cities'), id, tag('city'))} END,
           CASE WHEN k % 2 = 0 AND ${base.firms} > 0 THEN ${noise.id(base.firms, id, tag('firm'))} END,
           ${noise.id(size('person_types'), id, tag('type'))}, ${noise.id(size('billing_classes'), id, tag('billing'))},
           ${c.stamp('k')}, ${c.stamp('k')}
    FROM generate_series(1, ${n}) AS g(k)`);

  const child = async (table: string, columns: string, values: string, where = 'true') => {
    const { rows: top } = await c.client.query<{ max: string }>(`SELECT coalesce(max(id), 0) AS max FROM ${ident(table)}`);
    await c.run(table, 'inserted', `
      INSERT INTO ${ident(table)} (id, person_id, ${columns}, updated_at)
      SELECT ${top[0].max} + row_number() OVER (ORDER BY k), ${id}, ${values}, ${c.stamp('row_number() OVER (ORDER BY k)')}
      FROM generate_series(1, ${n}) AS g(k) WHERE ${where}`);
  };
  await child('dues_balances', 'period, amount, due_on, paid', `'2025', 250.00, DATE '2025-12-31', false`);
  await child('email_preferences', 'email_type_id, topic, opted_in', `1, 'Newsletter', true`);
  if (base.events > 0) {
    await child('registrations', 'event_id, status, registered_at, amount_paid',
      `${noise.id(base.events, id, tag('event'))}, 'Registered', ${c.stamp('k')}, 0`, 'k % 2 = 1');
  }
}

/** Deletes people and, first, every row that references them (found through the foreign keys). */
async function deletePeople(c: ChangeSet, n: number): Promise<void> {
  if (n === 0) return;
  await c.client.query(`CREATE TEMP TABLE doomed_people ON COMMIT DROP AS SELECT id FROM (${c.choose('people', n)}) AS chosen`);
  await deleteWithDependants(c, 'people', 'id IN (SELECT id FROM doomed_people)');

  // Child rows of people who stay, and of events.
  const half = Math.ceil(n / 2);
  for (const table of ['person_interests', 'event_options']) {
    await c.run(table, 'deleted', `DELETE FROM ${ident(table)} WHERE id IN (SELECT id FROM (${c.choose(table, half)}) AS chosen)`);
  }
  // A lookup row nothing refers to (the generator never uses LEGACY).
  await c.run('member_source_options', 'deleted', `
    DELETE FROM member_source_options WHERE id IN (
      SELECT id FROM member_source_options o
      WHERE NOT EXISTS (SELECT 1 FROM person_member_sources s WHERE s.member_source_option_id = o.id)
      ORDER BY id DESC LIMIT 1)`);
}

async function deleteWithDependants(c: ChangeSet, table: string, where: string): Promise<void> {
  const { rows } = await c.client.query<{ child: string; column: string; parent_column: string }>(
    `SELECT k.conrelid::regclass::text AS child, a.attname AS column, pa.attname AS parent_column
     FROM pg_constraint k
     JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
     JOIN pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = k.confkey[1]
     WHERE k.contype = 'f' AND k.confrelid = $1::regclass AND cardinality(k.conkey) = 1
     ORDER BY 1, 2`,
    [table],
  );
  for (const fk of rows) {
    const childWhere = `${ident(fk.column)} IN (SELECT ${ident(fk.parent_column)} FROM ${ident(table)} WHERE ${where})`;
    await deleteWithDependants(c, fk.child, childWhere);
  }
  await c.run(table, 'deleted', `DELETE FROM ${ident(table)} WHERE ${where}`);
}
