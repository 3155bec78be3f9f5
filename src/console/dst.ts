/**
 * What a schedule does around daylight-saving changes, in words (instead of the seed's "do not set
 * 2:00 AM"): a slot whose wall-clock time does not exist on the day clocks go forward runs when the
 * scheduler actually fires it (croner, as the controller uses), and a slot in the repeated hour runs once.
 */
import { Cron } from 'croner';
import { zonedTime } from '../cli/kubectl-ferry/format.js';

const DAY = 24 * 3600_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function offsetMinutes(date: Date, timeZone: string): number {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    formatters.set(timeZone, formatter);
  }
  const part = formatter.formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /GMT([+-])(\d{2}):?(\d{2})?/.exec(part);
  return match ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3] ?? 0)) : 0;
}

/** Instants within the coming year where the zone's offset changes (found day by day, then to the minute). */
function transitions(timeZone: string, from: Date): { at: Date; before: number; after: number }[] {
  const found: { at: Date; before: number; after: number }[] = [];
  let previous = offsetMinutes(from, timeZone);
  for (let t = from.getTime() + DAY; t < from.getTime() + 367 * DAY; t += DAY) {
    const offset = offsetMinutes(new Date(t), timeZone);
    if (offset !== previous) {
      let low = t - DAY;
      let high = t;
      while (high - low > 60_000) {
        const mid = low + Math.floor((high - low) / 2 / 60_000) * 60_000 || low + 60_000;
        if (offsetMinutes(new Date(mid), timeZone) === previous) low = mid;
        else high = mid;
      }
      // Offsets change on a whole minute, the first one at or before `high` (within a minute of it).
      found.push({ at: new Date(Math.floor(high / 60_000) * 60_000), before: previous, after: offset });
      previous = offset;
    }
  }
  return found;
}

/** A note when the schedule has slots in a skipped or repeated hour within the next year, else undefined. */
export function dstNote(cron: string, timeZone: string, now: Date): string | undefined {
  let schedule: Cron;
  try {
    schedule = new Cron(cron, { paused: true, timezone: timeZone });
  } catch {
    return undefined;
  }
  const utcPattern = new Cron(cron, { paused: true, timezone: 'UTC' });
  for (const change of transitions(timeZone, now)) {
    const shift = change.after - change.before;
    // Wall-clock minutes around the change, as UTC dates with the same fields, to test the pattern against.
    const wallStart = new Date(change.at.getTime() + Math.min(change.before, change.after) * 60_000);
    for (let m = 0; m < Math.abs(shift); m++) {
      const wall = new Date(wallStart.getTime() + m * 60_000);
      if (!utcPattern.match(wall)) continue;
      const clock = wall.toISOString().slice(11, 16);
      const day = wall.toISOString().slice(0, 10);
      if (shift > 0) {
        const actual = schedule.nextRun(new Date(change.at.getTime() - 60_000));
        return `${clock} does not exist on ${day} in ${timeZone} (clocks go forward): that run happens at ${actual ? zonedTime(actual, timeZone) : 'the next slot'} instead.`;
      }
      return `${clock} happens twice on ${day} in ${timeZone} (clocks go back): the schedule runs once, at the first ${clock}.`;
    }
  }
  return undefined;
}
