import { describe, expect, it } from 'vitest';
import { decideSchedule, nextSlot, scheduleEnabledIn, scheduledJobName } from '../../../src/controller/schedule.js';

const berlin = { cron: '30 2 * * *', timeZone: 'Europe/Berlin' };

function slotsBetween(schedule: { cron: string; timeZone: string }, from: string, to: string): string[] {
  const out: string[] = [];
  let cursor = nextSlot(schedule, new Date(from));
  while (cursor && cursor < new Date(to)) {
    out.push(cursor.toISOString());
    cursor = nextSlot(schedule, cursor);
  }
  return out;
}

describe('schedules', () => {
  it('runs a 02:30 schedule once, at 03:00, on the spring-forward day', () => {
    // 2026-03-29: Berlin clocks jump from 02:00 to 03:00 CEST (01:00Z).
    expect(slotsBetween(berlin, '2026-03-28T12:00:00Z', '2026-03-30T12:00:00Z')).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
  });

  it('runs a 02:30 schedule once on the fall-back day, although 02:30 happens twice', () => {
    // 2026-10-25: 03:00 CEST goes back to 02:00 CET; 02:30 local exists at 00:30Z and 01:30Z.
    expect(slotsBetween(berlin, '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z')).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('evaluates the cron in the schedule time zone', () => {
    expect(nextSlot({ cron: '0 9 * * *', timeZone: 'America/New_York' }, new Date('2026-07-01T00:00:00Z'))?.toISOString()).toBe(
      '2026-07-01T13:00:00.000Z',
    );
  });

  it('runs the due slot and nothing when not due', () => {
    const every5 = { cron: '*/5 * * * * *' };
    const since = new Date('2026-01-01T00:00:00Z');
    const early = decideSchedule(every5, since, new Date('2026-01-01T00:00:03Z'));
    expect(early.runAt).toBeUndefined();
    expect(early.missed).toBe(0);
    const due = decideSchedule(every5, since, new Date('2026-01-01T00:00:06Z'));
    expect(due.runAt?.toISOString()).toBe('2026-01-01T00:00:05.000Z');
    expect(due.missed).toBe(0);
    expect(due.next?.toISOString()).toBe('2026-01-01T00:00:10.000Z');
  });

  it('after downtime runs at most one catch-up and reports the rest as missed', () => {
    const hourly = { cron: '0 * * * *' };
    const decision = decideSchedule(hourly, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T05:10:00Z'));
    expect(decision.runAt?.toISOString()).toBe('2026-01-01T05:00:00.000Z');
    expect(decision.missed).toBe(4); // 01:00 .. 04:00
  });

  it('skips the catch-up outside startingDeadlineSeconds', () => {
    const hourly = { cron: '0 * * * *', startingDeadlineSeconds: 300 };
    const late = decideSchedule(hourly, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T05:10:00Z'));
    expect(late.runAt).toBeUndefined();
    expect(late.missed).toBe(5);
    const inTime = decideSchedule(hourly, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T05:04:00Z'));
    expect(inTime.runAt?.toISOString()).toBe('2026-01-01T05:00:00.000Z');
  });

  it('caps the missed count of a long outage of a seconds-level cron', () => {
    const decision = decideSchedule({ cron: '* * * * * *' }, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-02T00:00:00Z'));
    expect(decision.runAt?.toISOString()).toBe('2026-01-02T00:00:00.000Z');
    expect(decision.missed).toBe(100);
    expect(decision.missedCapped).toBe(true);
  });

  it('gates schedules by environment', () => {
    expect(scheduleEnabledIn({}, undefined)).toBe(true);
    expect(scheduleEnabledIn({ enabledIn: ['prod'] }, 'prod')).toBe(true);
    expect(scheduleEnabledIn({ enabledIn: ['prod'] }, 'staging')).toBe(false);
    expect(scheduleEnabledIn({ enabledIn: ['prod'] }, undefined)).toBe(false);
  });

  it('names scheduled SyncJobs deterministically', () => {
    expect(scheduledJobName('crm', 'nightly', new Date('2026-01-01T00:00:05Z'))).toBe('crm-nightly-1767225605');
  });
});
