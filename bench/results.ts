import { writeFileSync } from 'node:fs';
import Table from 'cli-table3';
import type { RunReport } from '../src/engine/report.js';
import type { BaselineResult } from './baseline.js';

const seconds = (ms: number) => ms / 1000;
const perSecond = (rows: number, ms: number) => Math.round(rows / seconds(ms)).toLocaleString('en-US');

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

/** The entities that took longest in the Full load, next to their baseline pipeline. */
export function printSlowest(title: string, report: RunReport, baseline: BaselineResult | undefined): void {
  const base = new Map(baseline?.perTable.map((t) => [t.entity, t]) ?? []);
  const slowest = [...report.entities].sort((x, y) => y.durationMs - x.durationMs).slice(0, 8);
  const total = report.entities.reduce((sum, e) => sum + e.durationMs, 0);
  printPairs(
    title,
    slowest.map((e) => {
      const b = base.get(e.name);
      const share = ((100 * e.durationMs) / total).toFixed(0);
      const vs = b ? ` · baseline ${seconds(b.wallMs).toFixed(1)} s (${(e.durationMs / b.wallMs).toFixed(1)}x)` : '';
      return [e.name, `${seconds(e.durationMs).toFixed(1)} s (${share}%) · ${e.read.toLocaleString('en-US')} rows · ${perSecond(e.read, e.durationMs)} rows/s${vs}`];
    }),
  );
}
