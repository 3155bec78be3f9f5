import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { ArchivedFile } from '../store/export-archive.js';
import { streamExportFile } from '../store/export-file-reads.js';
import { recordTransferAttempt, recordTransferEnd, recordTransferPending, type TransferEnd } from '../store/export-transfers.js';
import { withRetries, type RetryPolicy } from './transports/retry.js';
import { connect } from './transports/index.js';
import { TransferError, type ResolvedTarget } from './transports/types.js';

export type TransferStatus = 'pending' | 'transferring' | 'transferred' | 'failed';

export interface TransferOutcome extends TransferEnd {
  target: string;
  file: string;
  fileId: string;
  status: TransferStatus;
}

/** A destination: a resolved target, or one whose configuration could not be read (it fails without connecting). */
export type Destination = { name: string; target: ResolvedTarget } | { name: string; invalid: string };

export function retryPolicyOf(target: ResolvedTarget): RetryPolicy {
  const retry = target.spec.retry ?? {};
  return {
    maxAttempts: retry.maxAttempts ?? 4,
    initialDelayMs: (retry.initialDelaySeconds ?? 2) * 1000,
    maxDelayMs: (retry.maxDelaySeconds ?? 60) * 1000,
  };
}

/**
 * Sends every file to every destination. Destinations run side by side and never stop each other;
 * within one destination files go one after another, each with its own retries. Every outcome is
 * written to the state DB as it changes.
 */
export async function deliverFiles(
  pool: pg.Pool,
  runId: string,
  files: ArchivedFile[],
  destinations: Destination[],
  logger: Logger,
): Promise<TransferOutcome[]> {
  const ids = new Map<string, number>();
  for (const destination of destinations) {
    for (const file of files) ids.set(`${destination.name}\0${file.id}`, await recordTransferPending(pool, { runId, fileId: file.id, target: destination.name }));
  }

  const perDestination = await Promise.all(
    destinations.map(async (destination) => {
      const outcomes: TransferOutcome[] = [];
      let permanent: TransferError | undefined;
      for (const file of files) {
        const id = ids.get(`${destination.name}\0${file.id}`)!;
        const base = { target: destination.name, file: file.name, fileId: file.id };
        let outcome: TransferOutcome;
        if ('invalid' in destination) {
          outcome = { ...base, status: 'failed', attempts: 0, reason: 'InvalidConfig', message: destination.invalid };
        } else if (permanent) {
          // A permanent failure (auth, host key, TLS) would repeat for every file: do not hammer the server.
          outcome = { ...base, status: 'failed', attempts: 0, reason: permanent.reason, message: `not attempted: ${permanent.message}` };
        } else {
          const sent = await sendOne(runId, destination.target, file, pool, (attempt) => recordTransferAttempt(pool, id, attempt), logger);
          outcome = sent.outcome;
          if (sent.error && !sent.error.transient) permanent = sent.error;
        }
        await recordTransferEnd(pool, id, outcome);
        outcomes.push(outcome);
      }
      return outcomes;
    }),
  );
  return perDestination.flat();
}

function uploadToken(runId: string, fileId: string): string {
  return createHash('sha256').update(`${runId}/${fileId}`).digest('hex').slice(0, 10);
}

async function sendOne(
  runId: string,
  target: ResolvedTarget,
  file: ArchivedFile,
  pool: pg.Pool,
  onAttempt: (attempt: number) => Promise<void>,
  logger: Logger,
): Promise<{ outcome: TransferOutcome; error?: TransferError }> {
  const started = Date.now();
  const base = { target: target.name, file: file.name, fileId: file.id };
  try {
    const { value, attempts } = await withRetries(
      retryPolicyOf(target),
      async (attempt) => {
        await onAttempt(attempt);
        const connection = await connect(target);
        const content = streamExportFile(pool, file);
        try {
          return await connection.putAtomically(content, file.name, file.bytes, uploadToken(runId, file.id));
        } finally {
          // A transfer that failed before reading to the end would otherwise keep the state-DB session the read holds.
          content.destroy();
          await connection.close();
        }
      },
      (error, attempt, delayMs) =>
        logger.warn({ target: target.name, file: file.name, attempt, reason: error.reason, delayMs: Math.round(delayMs) }, `transfer failed, retrying: ${error.message}`),
    );
    logger.info({ target: target.name, file: file.name, bytes: value.bytes, remotePath: value.remotePath }, 'file transferred');
    return { outcome: { ...base, status: 'transferred', remotePath: value.remotePath, bytes: value.bytes, durationMs: Date.now() - started, attempts } };
  } catch (error) {
    const classified = error instanceof TransferError ? error : new TransferError('TransferFailed', (error as Error).message, false);
    logger.error({ target: target.name, file: file.name, reason: classified.reason }, `transfer failed: ${classified.message}`);
    return {
      outcome: {
        ...base,
        status: 'failed',
        attempts: classified.attempts,
        reason: classified.reason,
        message: classified.message,
        durationMs: Date.now() - started,
      },
      error: classified,
    };
  }
}
