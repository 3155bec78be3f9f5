/** `--wait`: follow a SyncJob through its phases until it ends, drawing progress as it goes. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SyncJob } from '../../api/syncjob.js';
import { FerryError } from '../../util/errors.js';
import { estimateText, isTerminal, progressLine } from './format.js';
import type { FerryClient } from './kube.js';

export interface FollowOptions {
  timeoutMs: number;
  pollMs?: number;
  /** Where progress goes (stderr, so stdout holds only the report). */
  out: NodeJS.WritableStream & { isTTY?: boolean };
  now?: () => Date;
}

export async function followSyncJob(client: FerryClient, name: string, options: FollowOptions): Promise<SyncJob> {
  const now = options.now ?? (() => new Date());
  const deadline = Date.now() + options.timeoutMs;
  const tty = Boolean(options.out.isTTY);
  let lastPhase: string | undefined;
  let lastEstimate: string | undefined;
  let lastLine = '';
  let lastPrinted = 0;
  for (;;) {
    const job = await client.getSyncJob(name);
    const phase = job.status?.phase ?? 'Pending';
    const estimate = job.status?.estimate ? estimateText(job) : undefined;
    if (estimate && estimate !== lastEstimate) {
      if (tty && lastLine) options.out.write('\n');
      options.out.write(`estimate: ${estimate}\n`);
      lastEstimate = estimate;
      lastLine = '';
    }
    const line = progressLine(job, now());
    if (tty) {
      if (phase !== lastPhase && lastLine) options.out.write('\n');
      options.out.write(`\r\x1b[2K${line}`);
      lastLine = line;
    } else if (phase !== lastPhase || Date.now() - lastPrinted > 30_000) {
      options.out.write(`${line}\n`);
      lastPrinted = Date.now();
    }
    lastPhase = phase;
    if (isTerminal(job)) {
      if (tty) options.out.write('\n');
      return job;
    }
    if (Date.now() > deadline) {
      if (tty) options.out.write('\n');
      throw new FerryError(`gave up waiting for SyncJob ${name} after ${Math.round(options.timeoutMs / 1000)}s (phase ${phase}); it keeps running: kubectl ferry report ${name}`, 1);
    }
    await sleep(options.pollMs ?? 1000);
  }
}
