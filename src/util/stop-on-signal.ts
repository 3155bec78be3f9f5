/**
 * Stops what this process started (an embedded PostgreSQL server) when a signal ends it, instead
 * of leaving it behind. Only when nothing else handles the signal: a command with a graceful stop
 * of its own (`ferry run --watch` finishing its run, the controller releasing its lease) listens
 * itself and stops its servers on its way out, with its own exit code.
 */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type StopSignal = (typeof SIGNALS)[number];

const stops = new Set<() => Promise<void>>();
const listeners = new Map<StopSignal, () => void>();

function onSignal(signal: StopSignal): void {
  // Prepended, so this runs while every other listener (a `once` one too) is still registered.
  if (process.listenerCount(signal) > 1) return;
  const pending = [...stops];
  stops.clear();
  unlisten();
  // Then ended by the signal as if nobody had listened (exit status 128 + its number).
  void Promise.allSettled(pending.map((stop) => stop())).then(() => process.kill(process.pid, signal));
}

function unlisten(): void {
  for (const [signal, listener] of listeners) process.off(signal, listener);
  listeners.clear();
}

/** Runs `stop` when a signal nobody else handles ends the process; the returned function cancels that. */
export function stopOnSignal(stop: () => Promise<void>): () => void {
  stops.add(stop);
  if (listeners.size === 0) {
    for (const signal of SIGNALS) {
      const listener = () => onSignal(signal);
      listeners.set(signal, listener);
      process.prependListener(signal, listener);
    }
  }
  return () => {
    stops.delete(stop);
    if (stops.size === 0) unlisten();
  };
}
