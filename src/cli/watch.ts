import type { Logger } from 'pino';
import { parseWindow } from '../api/defaults.js';
import { databaseOf, type SystemSide } from '../api/systems.js';
import { renderReport, type ReportFormat } from '../report/formats.js';
import { RunFailedError } from '../engine/run.js';
import type { ChangeFeed } from '../engine/connector.js';
import { watchLoop } from '../engine/watch-loop.js';
import { runLocally, type LocalRunOptions } from '../local/local-run.js';
import { ConfigError, FlowBusyError } from '../util/errors.js';
import { flowConnector, withFlowDatabases, type FlowDatabases } from './pairs.js';

/** `30s`, `5m`, `1h30m` or plain seconds -> milliseconds. */
export function parseInterval(text: string): number {
  const seconds = /^\d+$/.test(text) ? Number(text) : parseWindow(text);
  if (seconds === undefined || seconds < 1 || seconds > 86400) throw new ConfigError(`--interval takes a duration from 1s to 24h, e.g. 30s or 5m, got "${text}"`);
  return seconds * 1000;
}

/**
 * The change feeds of the watched databases (the source; both sides of a TwoWay flow): each
 * connector decides whether its system can notify (PostgreSQL with `ferry install-triggers`).
 * Sides without a feed are caught by polling the cursor every interval.
 */
async function openChangeFeeds(dbs: FlowDatabases, logger: Logger): Promise<ChangeFeed[]> {
  const spec = dbs.flow.spec;
  const sides: SystemSide[] = spec.direction === 'TwoWay' ? ['source', 'target'] : ['source'];
  const feeds: ChangeFeed[] = [];
  for (const side of sides) {
    const connector = await flowConnector(dbs, side);
    const namespace = databaseOf(spec[side], side)?.namespace ?? '';
    const feed = await connector?.changeFeed?.(namespace, spec.entities.map((e) => e[side].table), logger);
    if (feed) feeds.push(feed);
  }
  return feeds;
}

/**
 * `ferry run --watch`: Incremental runs back to back, each as soon as a change trigger notifies
 * (see `ferry install-triggers`), or every `interval` when none does. Stops on SIGINT/SIGTERM.
 */
export async function runWatch(options: Omit<LocalRunOptions, 'mode'> & { intervalMs: number; output: ReportFormat }): Promise<void> {
  const { logger } = options;
  await withFlowDatabases({ file: options.files, flow: options.flow, stateDb: options.stateDb, dataDir: options.dataDir }, async (dbs) => {
    const feeds = await openChangeFeeds(dbs, logger);
    logger.info(
      { flow: dbs.flowId, intervalMs: options.intervalMs, notifications: feeds.length > 0 },
      (feeds.length > 0 ? 'watching: syncing on change notifications, polling as fallback' : 'watching: polling (no change triggers installed; see ferry install-triggers)') +
        (dbs.flow.spec.source.files ? "; the files source's location is listed every interval (files send no change notifications)" : ''),
    );
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await watchLoop(
        async (trigger) => {
          try {
            const [report] = await runLocally({ ...options, flow: dbs.flow.metadata.name, mode: 'Incremental' });
            const wrote = report.totals.created + report.totals.updated + report.totals.archived + report.totals.deleted;
            if (wrote > 0 || report.totals.rejected > 0 || options.output !== 'table') process.stdout.write(renderReport(report, options.output) + '\n');
            else logger.info({ trigger, runId: report.runId, durationMs: report.durationMs }, 'nothing to sync');
          } catch (error) {
            if (error instanceof RunFailedError) process.stdout.write(renderReport(error.report, options.output) + '\n');
            else if (error instanceof FlowBusyError) logger.info({ err: error.message }, 'another run is active; trying again later');
            else throw error;
          }
        },
        { intervalMs: options.intervalMs, feeds, signal: controller.signal, settleMs: 20 },
      );
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await Promise.all(feeds.map((feed) => feed.close()));
    }
  });
}
