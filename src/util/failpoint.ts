/**
 * Crash injection for the recovery tests: `FERRY_FAILPOINT=<name>:<n>` makes the process SIGKILL
 * itself the n-th time it passes the named point. Unset (always, outside tests) it costs one lookup.
 */
function armed(): { name: string; hit: number } | undefined {
  const spec = process.env.FERRY_FAILPOINT;
  if (!spec) return undefined;
  const colon = spec.lastIndexOf(':');
  return colon === -1 ? { name: spec, hit: 1 } : { name: spec.slice(0, colon), hit: Number(spec.slice(colon + 1)) };
}

const armedPoint = armed();
let hits = 0;

export function failpoint(name: string): void {
  if (armedPoint?.name !== name) return;
  hits++;
  if (hits === armedPoint.hit) process.kill(process.pid, 'SIGKILL');
}
