import type { RunReport } from '../src/engine/report.js';
import type { Dataset, Servers } from './databases.js';
import type { FerryRun, FlowSnapshot } from './ferry-process.js';
import type { RunningMariaDb } from './mariadb.js';

/** What the rows beyond (a)-(d) that move the association in bulk (m1, m2, l) share with run.ts. */
export interface BulkContext {
  servers: Servers;
  maria: RunningMariaDb;
  /** The PostgreSQL association at --people and its (empty) PostgreSQL website schemas. */
  data: Dataset;
  flow: FlowSnapshot;
  work: string;
  /** Runs the compiled engine after a CHECKPOINT, logs and records it as a step. */
  ferry(label: string, stateUrl: string, manifests: string, mode: 'Full' | 'Incremental'): Promise<FerryRun>;
  say(line: string): void;
  step(label: string, text: string): void;
}

export const seconds = (ms: number) => ms / 1000;
export const written = (r: RunReport) => r.totals.created + r.totals.updated + r.totals.archived + r.totals.deleted;
export const perSecond = (rows: number, ms: number) => Math.round(rows / seconds(ms)).toLocaleString('en-US');
