import { describe, expect, it } from 'vitest';
import { applyWithBisection, type UnitOfWork } from '../../../src/connectors/bisect.js';
import { isRowError } from '../../../src/connectors/postgres/unit-of-work.js';

const serverError = (code: string, message = 'refused') => Object.assign(new Error(message), { code });

/** A unit whose attempts succeed unless the subset holds a refused item; it records every attempt. */
function unitRefusing(refused: Set<number>, error: (item: number) => Error) {
  const attempts: number[][] = [];
  const unit: UnitOfWork = {
    attempt: (work) => work(),
    isRowError,
  };
  const statement = async (subset: number[]) => {
    attempts.push(subset);
    const bad = subset.find((i) => refused.has(i));
    if (bad !== undefined) throw error(bad);
  };
  return { unit, statement, attempts };
}

describe('applyWithBisection', () => {
  it('isolates the refused rows and applies the rest', async () => {
    const { unit, statement, attempts } = unitRefusing(new Set([3, 6]), () => serverError('22001', 'value too long'));
    const rejected: number[] = [];
    await applyWithBisection(unit, [1, 2, 3, 4, 5, 6, 7, 8], statement, (item) => rejected.push(item));
    expect(rejected).toEqual([3, 6]);
    const applied = attempts.filter((a) => !a.includes(3) && !a.includes(6)).flat().sort();
    expect(applied).toEqual([1, 2, 4, 5, 7, 8]);
  });

  it('does not bisect a failure of the unit of work: a deadlock, a lock timeout or a lost connection fails the batch once', async () => {
    for (const error of [serverError('40P01', 'deadlock detected'), serverError('55P03', 'lock timeout'), serverError('57014', 'canceling statement'), serverError('ECONNRESET'), new Error('Connection terminated unexpectedly')]) {
      const { unit, statement, attempts } = unitRefusing(new Set([2]), () => error);
      const rejected: number[] = [];
      await expect(applyWithBisection(unit, [1, 2, 3, 4], statement, (item) => rejected.push(item))).rejects.toBe(error);
      expect(rejected).toEqual([]);
      expect(attempts).toHaveLength(1);
    }
  });
});

describe('PostgreSQL row errors', () => {
  it('counts data and constraint errors as the rows’ fault', () => {
    for (const code of ['22001', '22P02', '23505', '23503', '23514']) expect(isRowError(serverError(code)), code).toBe(true);
  });
  it('counts connection, rollback, resource and operator errors as the unit’s', () => {
    for (const code of ['08006', '40001', '40P01', '53200', '57014', '57P01', '55P03', 'XX000']) expect(isRowError(serverError(code)), code).toBe(false);
  });
});
