import { readFileSync } from 'node:fs';
import { childrenOf, processCpuSeconds } from './proc.js';

/** The postmaster's pid, from the data directory's postmaster.pid. */
export function postmasterOf(dataDir: string): number {
  return Number(readFileSync(`${dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
}

/** A backend's database, from the title PostgreSQL gives it (`postgres: user database host(port) state`); undefined for the server's own processes. */
function databaseOf(pid: number): string | undefined {
  try {
    const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    const words = title.split(' ');
    return words[0] === 'postgres:' && words[3]?.includes('(') ? words[2] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The CPU seconds a PostgreSQL server's backends spend per database while something runs: the
 * postmaster's children are read every 100 ms. A backend that starts meanwhile counts from its start;
 * one that was there already counts from the first look. A backend's last 100 ms before it exits can
 * be missed. On a shared machine Ferry's CPU over the backends' is steadier than wall time: both move
 * with the machine's speed.
 */
export class BackendCpu {
  private readonly backends = new Map<number, { database: string; from: number; last: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly postmaster: number) {
    this.look(true);
    this.timer = setInterval(() => this.look(false), 100);
  }

  private look(first: boolean): void {
    for (const pid of childrenOf(this.postmaster)) {
      const seen = this.backends.get(pid);
      const cpu = processCpuSeconds(pid);
      if (cpu === undefined) continue;
      if (seen) {
        seen.last = cpu;
        continue;
      }
      const database = databaseOf(pid);
      if (database !== undefined) this.backends.set(pid, { database, from: first ? cpu : 0, last: cpu });
    }
  }

  /** Stops looking; the CPU seconds per database. */
  stop(): Map<string, number> {
    clearInterval(this.timer);
    this.look(false);
    const perDatabase = new Map<string, number>();
    for (const { database, from, last } of this.backends.values()) perDatabase.set(database, (perDatabase.get(database) ?? 0) + last - from);
    return perDatabase;
  }
}
