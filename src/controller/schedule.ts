import { Cron } from 'croner';
import type { Schedule } from '../api/syncflow.js';

/** Upper bound on the slots walked to count misses, so a long outage of a seconds-level cron stays cheap. */
const MAX_COUNTED_SLOTS = 100;

export interface ScheduleDecision {
  /** The slot to create a SyncJob for now, if any (at most one: the most recent due slot). */
  runAt?: Date;
  /** Slots skipped: older due slots, plus the due slot itself when it is past startingDeadlineSeconds. */
  missed: number;
  /** True when more slots were missed than were counted. */
  missedCapped: boolean;
  /** The next slot after now. */
  next?: Date;
}

function cronOf(schedule: Pick<Schedule, 'cron' | 'timeZone'>): Cron {
  return new Cron(schedule.cron, { paused: true, timezone: schedule.timeZone ?? 'UTC' });
}

/** The next slot strictly after `after`, in the schedule's time zone (croner handles DST gaps and repeats). */
export function nextSlot(schedule: Pick<Schedule, 'cron' | 'timeZone'>, after: Date): Date | undefined {
  return cronOf(schedule).nextRun(after) ?? undefined;
}

/**
 * CronJob semantics without the catch-up storm: of all slots in (since, now], only the most recent
 * one may run, and only if it is within startingDeadlineSeconds; every other slot counts as missed.
 * `since` is the last schedule time, or the flow's creation when it never ran.
 */
export function decideSchedule(schedule: Pick<Schedule, 'cron' | 'timeZone' | 'startingDeadlineSeconds'>, since: Date, now: Date): ScheduleDecision {
  const cron = cronOf(schedule);
  const next = cron.nextRun(now) ?? undefined;
  const latest = cron.previousRuns(1, new Date(now.getTime() + 1))[0];
  if (!latest || latest.getTime() <= since.getTime()) return { missed: 0, missedCapped: false, next };
  let missed = 0;
  let cursor = cron.nextRun(since);
  while (cursor && cursor.getTime() < latest.getTime() && missed < MAX_COUNTED_SLOTS) {
    missed++;
    cursor = cron.nextRun(cursor);
  }
  const missedCapped = missed >= MAX_COUNTED_SLOTS && cursor !== null && cursor.getTime() < latest.getTime();
  const deadlineMs = schedule.startingDeadlineSeconds !== undefined ? schedule.startingDeadlineSeconds * 1000 : undefined;
  if (deadlineMs !== undefined && now.getTime() - latest.getTime() > deadlineMs) {
    return { missed: missed + 1, missedCapped, next };
  }
  return { runAt: latest, missed, missedCapped, next };
}

/** `enabledIn` gating: a schedule without the list runs everywhere; otherwise only in the listed environments. */
export function scheduleEnabledIn(schedule: Pick<Schedule, 'enabledIn'>, environment: string | undefined): boolean {
  if (!schedule.enabledIn || schedule.enabledIn.length === 0) return true;
  return environment !== undefined && schedule.enabledIn.includes(environment);
}

/** Deterministic SyncJob name of a schedule slot: a restarted controller recreating it hits AlreadyExists. */
export function scheduledJobName(flow: string, schedule: string, slot: Date): string {
  return `${flow}-${schedule}-${Math.floor(slot.getTime() / 1000)}`;
}
