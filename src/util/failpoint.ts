/**
 * Crash injection for the recovery tests: `FERRY_FAILPOINT=<name>:<n>` makes the process SIGKILL
 * itself the n-th time it passes the named point. Unset (always, outside tests) it costs one lookup.
 */
const spec = process.env.FERRY_FAILPOINT;
const [armedName, armedHit] = spec ? [spec.split(':')[0], Number(spec.split(':')[1] ?? '1')] : [undefined, 0];
let hits = 0;

export function failpoint(name: string): void {
  if (armedName !== name) return;
  hits++;
  if (hits === armedHit) process.kill(process.pid, 'SIGKILL');
}
