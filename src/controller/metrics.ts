import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The controller's Prometheus metrics, on their own registry (several controllers can share a process in tests). */
export class ControllerMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'ferry_reconciles_total',
    help: 'Reconciles by kind and result.',
    labelNames: ['kind', 'result'],
    registers: [this.registry],
  });
  readonly reconcileSeconds = new Histogram({
    name: 'ferry_reconcile_duration_seconds',
    help: 'Time spent in one reconcile.',
    labelNames: ['kind'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: 'ferry_workqueue_depth', help: 'Keys waiting in the work queue.', registers: [this.registry] });
  readonly runs = new Counter({
    name: 'ferry_runs_total',
    help: 'Finished runs by flow, mode and result.',
    labelNames: ['namespace', 'flow', 'mode', 'result'],
    registers: [this.registry],
  });
  readonly runSeconds = new Histogram({
    name: 'ferry_run_duration_seconds',
    help: 'Run durations by flow and mode.',
    labelNames: ['namespace', 'flow', 'mode'],
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600],
    registers: [this.registry],
  });
  readonly records = new Counter({
    name: 'ferry_records_total',
    help: 'Records processed by finished runs, by flow and outcome (created, updated, ...).',
    labelNames: ['namespace', 'flow', 'outcome'],
    registers: [this.registry],
  });
  readonly leader = new Gauge({ name: 'ferry_leader', help: '1 while this replica holds the leader lease.', registers: [this.registry] });
  readonly informerRestarts = new Counter({
    name: 'ferry_informer_restarts_total',
    help: 'Watch restarts after errors or silences.',
    labelNames: ['informer'],
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'ferry_' });
  }
}
