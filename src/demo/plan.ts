/** Row counts of the generated association data, all derived from the number of people. */
export interface DatasetPlan {
  people: number;
  firms: number;
  events: number;
  /** Rows per child table, excluding lookups, people, firms and events. */
  children: Record<ChildTable, number>;
}

/** Children per 1000 people (integers, so counts never depend on floating-point rounding). */
const PER_THOUSAND_PEOPLE = {
  email_preferences: 500,
  group_memberships: 150,
  person_interests: 400,
  person_languages: 150,
  subscriptions: 300,
  person_member_sources: 200,
  person_sectors: 200,
  person_skills: 300,
  special_needs: 20,
  volunteer_preferences: 80,
  volunteer_skills: 80,
  volunteer_tags: 100,
  dues_balances: 600,
  chapter_balances: 200,
  registrations: 500,
  event_balances: 200,
} as const;

/** Person-linked product balances per 1000 people; on top of these every firm has one firm-only balance. */
const PERSON_PRODUCT_BALANCES_PER_THOUSAND = 120;

/** Children per 10 events. */
const PER_TEN_EVENTS = {
  event_leaders: 15,
  event_credits: 10,
  event_sessions: 30,
  event_options: 20,
  event_fees: 20,
  event_ematerials: 10,
} as const;

export type ChildTable =
  | keyof typeof PER_THOUSAND_PEOPLE
  | keyof typeof PER_TEN_EVENTS
  | 'product_balances'
  | 'related_events';

export function planDataset(people: number): DatasetPlan {
  if (!Number.isSafeInteger(people) || people < 0) throw new RangeError(`people must be a non-negative integer, got ${people}`);
  const firms = people === 0 ? 0 : Math.max(10, Math.round(people / 20));
  const events = people === 0 ? 0 : Math.max(20, Math.round(people / 100));
  const children = {} as Record<ChildTable, number>;
  for (const [table, perThousand] of Object.entries(PER_THOUSAND_PEOPLE)) {
    children[table as ChildTable] = Math.floor((people * perThousand) / 1000);
  }
  for (const [table, perTen] of Object.entries(PER_TEN_EVENTS)) {
    children[table as ChildTable] = Math.floor((events * perTen) / 10);
  }
  children.product_balances = personProductBalances(people) + firms;
  children.related_events = previousEditionLinks(events) + sameSeriesLinks(events);
  return { people, firms, events, children };
}

export function personProductBalances(people: number): number {
  return Math.floor((people * PERSON_PRODUCT_BALANCES_PER_THOUSAND) / 1000);
}

/** Event 2k follows up on event 2k-1. */
export function previousEditionLinks(events: number): number {
  return Math.floor(events / 2);
}

/** Event 3k belongs to the same series as event 3k-2. */
export function sameSeriesLinks(events: number): number {
  return Math.floor(events / 3);
}

/** Generated people with these ids are deliberately broken when `badRows` is set. */
export const BAD_ROWS = {
  /** id % 1000 == 7: an e-mail address longer than the website's varchar(120). */
  longEmail: 7,
  /** id % 1000 == 11: firm_id points at a firm that does not exist. */
  missingFirm: 11,
} as const;

export function countBadPeople(people: number, remainder: number): number {
  return people >= remainder ? Math.floor((people - remainder) / 1000) + 1 : 0;
}

/** Fixed points in time: generated data never depends on the clock. */
export const TIMELINE = {
  /** Earliest created_at. */
  epoch: Date.parse('2015-01-01T00:00:00Z'),
  /** Latest created_at of generated people and firms. */
  lastCreated: Date.parse('2024-01-01T00:00:00Z'),
  /** Latest generated updated_at; applyDemoChanges stamps later times. */
  asOf: Date.parse('2025-06-30T00:00:00Z'),
  /** A bulk update (a dues run) that gave ~5 % of all rows the very same updated_at. */
  bulkUpdate: Date.parse('2024-03-01T02:00:00Z'),
} as const;

export const MINUTE_MS = 60_000;
