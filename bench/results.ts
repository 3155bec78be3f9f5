import { writeFileSync } from 'node:fs';
import Table from 'cli-table3';

/** One line of bench/results.json. `baseline` and `ratio` are null when a row has no reference. */
export interface ResultRow {
  name: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  aim: string;
}

export function row(name: string, value: number, unit: string, baseline: number | null, aim: string): ResultRow {
  const ratio = baseline === null || baseline === 0 ? null : round(value / baseline, 3);
  return { name, value: round(value, 3), unit, baseline: baseline === null ? null : round(baseline, 3), ratio, aim };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function fmt(n: number | null): string {
  if (n === null) return '—';
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(3).replace(/\.?0+$/, '') || '0';
}

export function printRows(rows: ResultRow[]): void {
  const table = new Table({
    head: ['row', 'value', 'unit', 'baseline', 'ratio', 'aim'],
    colAligns: ['left', 'right', 'left', 'right', 'right', 'left'],
    style: { head: [], border: [] },
  });
  for (const r of rows) table.push([r.name, fmt(r.value), r.unit, fmt(r.baseline), r.ratio === null ? '—' : `${fmt(r.ratio)}x`, r.aim]);
  process.stdout.write(table.toString() + '\n');
}

export function writeRows(path: string, rows: ResultRow[]): void {
  writeFileSync(path, JSON.stringify(rows, null, 2) + '\n');
}

/** A free-form two-column table for the per-step details (rows/s, slowest entities). */
export function printPairs(title: string, pairs: [string, string][]): void {
  const table = new Table({ head: [title, ''], style: { head: [], border: [] } });
  for (const p of pairs) table.push(p);
  process.stdout.write(table.toString() + '\n');
}
