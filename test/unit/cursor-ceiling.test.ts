import { describe, expect, it } from 'vitest';
import { CursorCeiling, cursorTime } from '../../src/engine/cursor-ceiling.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');

describe('cursor ceiling', () => {
  it('reads the cursor texts of PostgreSQL and MariaDB alike, in UTC when they name no zone', () => {
    expect(cursorTime('2026-06-01 12:00:00+00')).toBe(NOW);
    expect(cursorTime('2026-06-01 14:00:00+02:00')).toBe(NOW);
    expect(cursorTime('2026-06-01 12:00:00.000000')).toBe(NOW);
    expect(cursorTime('2026-06-01 12:00:00.123456+00')).toBe(NOW + 123);
    expect(cursorTime('9999-12-31 00:00:00+00')).toBeGreaterThan(NOW);
    expect(cursorTime('infinity')).toBe(Infinity);
    expect(cursorTime('not a date')).toBeNaN();
  });

  it('admits cursors up to now plus the tolerance (default 24h) and names the rows beyond it', () => {
    const ceiling = new CursorCeiling('updated_at', undefined, NOW);
    expect(ceiling.admits('2026-06-02 11:59:59+00', ['1'])).toBe(true);
    expect(ceiling.admits(null, ['2'])).toBe(true);
    expect(ceiling.admits('not a date', ['3'])).toBe(true);
    expect(ceiling.note()).toBeUndefined();
    expect(ceiling.admits('2026-06-02 12:00:01+00', ['4'])).toBe(false);
    expect(ceiling.admits('9999-12-31 00:00:00', ['5', 'x'])).toBe(false);
    expect(ceiling.note()).toMatch(/^2 row\(s\) have updated_at beyond now \+ 24h \(key 4 at 2026-06-02 12:00:01\+00; key 5, x at 9999-12-31 00:00:00\)/);
    expect(new CursorCeiling('updated_at', 3600, NOW).within('2026-06-01 13:00:01+00')).toBe(false);
  });
});
