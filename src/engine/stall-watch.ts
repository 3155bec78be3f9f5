/**
 * Notices a server that stopped answering while a connection waits on it. A killed server closes
 * its sockets, but a frozen or partitioned one leaves them open, and TCP keepalive does not help:
 * the peer's kernel still acknowledges probes. So the connection's own traffic is the signal: when a
 * statement has waited `quietMs` without a byte from the server, a fresh connection asks the server
 * a trivial question. A slow statement passes that probe (the server answers the newcomer); a
 * stopped server does not, and the waiting connection is declared lost. Once one connection to a
 * server is lost, the others to it fail as soon as they wait in silence, instead of each waiting out
 * its own quiet period one after the other. Connectors wire this to their sockets; the engine does
 * not use it.
 */
export interface StallWatchOptions {
  /** Identifies the server (its URL): connections to one server share a verdict. */
  server: string;
  /** Waiting this long without a byte from the server triggers a probe. */
  quietMs: number;
  /** A probe that has not answered by then counts as a failure. */
  probeTimeoutMs: number;
  /** Whether the connection waits on the server (a statement in flight or queued). */
  busy(): boolean;
  /** A count that grows whenever the server speaks (the socket's bytes read). */
  progress(): number;
  /** Opens a fresh connection and runs a trivial statement; rejects when the server cannot answer. */
  probe(): Promise<void>;
  /** Called once, with why, when the server is gone; the connector then breaks the connection. */
  lost(reason: string): void;
}

export const STALL_DEFAULTS = { quietMs: 5_000, probeTimeoutMs: 5_000 };
const CHECK_EVERY_MS = 1_000;
/** Silence that condemns a connection to a server already found gone. */
const SUSPECT_QUIET_MS = 1_000;

// Servers a watch found gone; cleared when anything reaches them again.
const gone = new Set<string>();

/** A connection to `server` was just opened: it answers again. */
export function serverAnswered(server: string): void {
  gone.delete(server);
}

export interface StallWatch {
  stop(): void;
}

export function watchStalls(options: StallWatchOptions): StallWatch {
  let last = Date.now();
  let seen = options.progress();
  let probing = false;
  let stopped = false;
  const declareLost = (reason: string) => {
    stopped = true;
    clearInterval(interval);
    gone.add(options.server);
    options.lost(reason);
  };
  const check = async () => {
    if (stopped || probing) return;
    const progress = options.progress();
    if (!options.busy() || progress !== seen) {
      seen = progress;
      last = Date.now();
      return;
    }
    const quiet = Date.now() - last;
    if (gone.has(options.server) && quiet >= SUSPECT_QUIET_MS) return declareLost(`no answer from the server for ${Math.round(quiet / 1000)} s (another connection to it was lost)`);
    if (quiet < options.quietMs) return;
    probing = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        options.probe(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('probe timed out')), options.probeTimeoutMs))),
      ]);
      serverAnswered(options.server);
      last = Date.now();
    } catch {
      if (!stopped && options.busy() && options.progress() === seen) {
        declareLost(`no answer from the server for ${Math.round((Date.now() - last) / 1000)} s (stopped or unreachable)`);
      }
    } finally {
      clearTimeout(timer);
      probing = false;
    }
  };
  const interval = setInterval(() => void check(), CHECK_EVERY_MS);
  interval.unref();
  return {
    stop: () => {
      stopped = true;
      clearInterval(interval);
    },
  };
}
