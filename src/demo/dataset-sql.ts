import type { DatasetPlan } from './plan.js';
import { SqlNoise } from './sql-noise.js';
import { minutesAfter } from './sql-time.js';

/** One bulk INSERT … SELECT of generated rows. */
export interface Load {
  table: string;
  rows: number;
  sql: string;
}

/**
 * What the table loaders share: the plan, the noise source, and expressions that several
 * tables must agree on (a person's firm, an event's start, a registration's person). They are
 * recomputed from row numbers instead of read back, so tables can be loaded in any order
 * and in parallel.
 */
export class DatasetSql {
  readonly noise: SqlNoise;

  constructor(
    readonly plan: DatasetPlan,
    seed: number,
    readonly badRows: boolean,
  ) {
    this.noise = new SqlNoise(seed);
  }

  /** The (valid) firm of the person with this id, or NULL for the ~40 % without one. */
  personFirmId(person: string): string {
    const n = this.noise;
    return `CASE WHEN ${n.chance(60, person, 'people.has_firm')} THEN ${n.id(this.plan.firms, person, 'people.firm')} END`;
  }

  eventStartsAt(event: string): string {
    const n = this.noise;
    const minutes = `${n.below(1100, event, 'events.day')} * 1440 + ${n.below(4, event, 'events.slot')} * 120`;
    return minutesAfter(Date.parse('2023-01-09T14:00:00Z'), minutes);
  }

  registrationPersonId(registration: string): string {
    return this.noise.id(this.plan.people, registration, 'registrations.person');
  }

  registrationEventId(registration: string): string {
    return this.noise.id(this.plan.events, registration, 'registrations.event');
  }

  /**
   * INSERT INTO table (columns…) SELECT expressions… over k = 1..rows. `derived` columns are
   * computed first in a subquery, so expressions can refer to them by name.
   */
  insert(table: string, rows: number, columns: Record<string, string>, derived: Record<string, string> = {}): Load {
    const series = `generate_series(1, ${rows}) AS g(k)`;
    const from = Object.keys(derived).length === 0
      ? series
      : `(SELECT k, ${Object.entries(derived).map(([name, expr]) => `${expr} AS ${name}`).join(',\n          ')}\n      FROM ${series}) AS d`;
    return {
      table,
      rows,
      sql:
        `INSERT INTO ${table} (${Object.keys(columns).join(', ')})\n` +
        `SELECT ${Object.values(columns).join(',\n       ')}\n` +
        `FROM ${from}`,
    };
  }
}
