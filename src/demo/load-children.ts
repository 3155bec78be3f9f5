import type { DatasetSql, Load } from './dataset-sql.js';
import { EVENT_TOPICS } from './load-main.js';
import { referencedLookupSize as size } from './lookups.js';
import { personProductBalances, previousEditionLinks } from './plan.js';
import { childUpdatedAt } from './sql-time.js';

const VOLUNTEER_TAGS = ['mentor', 'speaker', 'board-candidate', 'committee', 'campus', 'advocate', 'writer', 'greeter'];

/** The "Related" tables of people (including registrations and the balances). */
export function personChildLoads(d: DatasetSql): Load[] {
  const n = d.noise;
  const rows = d.plan.children;
  const { people } = d.plan;
  const person = (table: string) => n.id(people, 'k', `${table}.person`);
  const child = (table: string, columns: Record<string, string>, derived?: Record<string, string>) =>
    d.insert(table, rows[table as keyof typeof rows], {
      id: 'k',
      person_id: person(table),
      ...columns,
      updated_at: childUpdatedAt(n, 'k', table),
    }, derived);
  const dateWithin = (from: string, days: number, tag: string) => `DATE '${from}' + ${n.below(days, 'k', tag)}::int`;

  return [
    child('email_preferences', {
      email_type_id: n.id(size('email_types'), 'k', 'email_preferences.type'),
      topic: n.pick(['Newsletter', 'Events', 'Advocacy alerts', 'CPE reminders', 'Job board', 'Member offers'], 'k', 'email_preferences.topic'),
      opted_in: n.chance(70, 'k', 'email_preferences.opted_in'),
    }),
    child('group_memberships', {
      society: n.pick(['AICPA', 'IMA', 'IIA', 'ACFE', 'ISACA', 'AGA', 'NABA', 'ALPFA'], 'k', 'group_memberships.society'),
      member_number: n.sometimesNull(20, `'M' || lpad(${n.below(10_000_000, 'k', 'group_memberships.number')}::text, 7, '0')`, 'k', 'group_memberships.number'),
      member_since: dateWithin('1990-01-01', 12000, 'group_memberships.since'),
    }),
    child('person_interests', {
      interest: n.pick(['Tax law', 'Audit quality', 'Data analytics', 'Not-for-profit', 'Government', 'Ethics', 'Leadership',
        'Cybersecurity', 'Financial planning', 'Forensics', 'ESG reporting', 'Digital assets'], 'k', 'person_interests.interest'),
    }),
    child('person_languages', {
      language: n.pick(['English', 'Spanish', 'Mandarin', 'Vietnamese', 'Korean', 'French', 'German', 'Tagalog', 'Arabic', 'Portuguese'], 'k', 'person_languages.language'),
      proficiency: n.pick(['Native', 'Fluent', 'Conversational', 'Basic'], 'k', 'person_languages.proficiency'),
    }),
    child('subscriptions', {
      publication: n.pick(['The CPA Journal', 'Tax Adviser Weekly', 'Audit Bulletin', 'Members Magazine', 'Legislative Update'], 'k', 'subscriptions.publication'),
      starts_on: 'starts_on',
      ends_on: n.sometimesNull(40, `starts_on + 365`, 'k', 'subscriptions.ends'),
      auto_renew: n.chance(50, 'k', 'subscriptions.renew'),
    }, { starts_on: dateWithin('2018-01-01', 2500, 'subscriptions.starts') }),
    child('person_member_sources', {
      member_source_option_id: n.id(size('member_source_options'), 'k', 'person_member_sources.option'),
      noted_on: dateWithin('2010-01-01', 5000, 'person_member_sources.noted'),
    }),
    child('person_sectors', {
      sector: n.pick(['Public accounting', 'Industry', 'Government', 'Education', 'Not-for-profit', 'Consulting', 'Banking', 'Insurance'], 'k', 'person_sectors.sector'),
      is_primary: n.chance(50, 'k', 'person_sectors.primary'),
    }),
    child('person_skills', {
      skill: n.pick(['Excel', 'SQL', 'Power BI', 'Python', 'SAP', 'QuickBooks', 'Tableau', 'NetSuite', 'Xero', 'Alteryx'], 'k', 'person_skills.skill'),
      level: `(1 + ${n.below(5, 'k', 'person_skills.level')})::smallint`,
    }),
    child('special_needs', {
      need: n.pick(['Wheelchair access', 'Hearing loop', 'Vegetarian meal', 'Vegan meal', 'Gluten-free meal', 'Large print',
        'Sign language interpreter'], 'k', 'special_needs.need'),
      note: n.sometimesNull(60, `'Please contact the member before the event'`, 'k', 'special_needs.note'),
    }),
    child('volunteer_preferences', {
      preference: n.pick(['Committee work', 'Mentoring', 'Speaking', 'Writing', 'Event staffing', 'Campus ambassador',
        'Legislative contact'], 'k', 'volunteer_preferences.preference'),
    }),
    child('volunteer_skills', {
      skill: n.pick(['Public speaking', 'Writing', 'Event planning', 'Fundraising', 'Social media', 'Teaching', 'Translation'], 'k', 'volunteer_skills.skill'),
    }),
    volunteerTags(d),
    child('dues_balances', {
      period: n.pick(['2023', '2024', '2025'], 'k', 'dues_balances.period'),
      amount: n.money(600, 'k', 'dues_balances.amount'),
      due_on: dateWithin('2023-01-31', 900, 'dues_balances.due'),
      paid: n.chance(65, 'k', 'dues_balances.paid'),
    }),
    child('chapter_balances', {
      chapter_id: n.id(size('chapters'), 'k', 'chapter_balances.chapter'),
      amount: n.money(150, 'k', 'chapter_balances.amount'),
      due_on: dateWithin('2023-01-31', 900, 'chapter_balances.due'),
    }),
    productBalances(d),
    d.insert('registrations', rows.registrations, {
      id: 'k',
      person_id: d.registrationPersonId('k'),
      event_id: 'event_id',
      status: n.pick(['Registered', 'Registered', 'Registered', 'Attended', 'Attended', 'Cancelled', 'Waitlisted'], 'k', 'registrations.status'),
      registered_at: `${d.eventStartsAt('event_id')} - (1440 + ${n.below(90 * 1440, 'k', 'registrations.lead')}) * INTERVAL '1 minute'`,
      amount_paid: n.money(900, 'k', 'registrations.paid'),
      updated_at: childUpdatedAt(n, 'k', 'registrations'),
    }, { event_id: d.registrationEventId('k') }),
    d.insert('event_balances', rows.event_balances, {
      id: 'k',
      person_id: d.registrationPersonId('registration_id'),
      registration_id: 'registration_id',
      amount: n.money(900, 'k', 'event_balances.amount'),
      due_on: dateWithin('2023-01-31', 900, 'event_balances.due'),
      updated_at: childUpdatedAt(n, 'k', 'event_balances'),
    }, { registration_id: n.id(rows.registrations, 'k', 'event_balances.registration') }),
  ];
}

/** Composite key (person_id, tag): each chosen person gets two different tags, no person is chosen twice. */
function volunteerTags(d: DatasetSql): Load {
  const n = d.noise;
  const total = d.plan.children.volunteer_tags;
  const pairs = Math.ceil(total / 2);
  const stride = pairs === 0 ? 1 : Math.floor(d.plan.people / pairs);
  const pair = '((k - 1) / 2)';
  return d.insert('volunteer_tags', total, {
    person_id: `${pair} * ${stride} + 1 + ${n.below(stride, pair, 'volunteer_tags.person')}`,
    tag: `(ARRAY['${VOLUNTEER_TAGS.join("','")}'])[1 + (${n.int(pair, 'volunteer_tags.tag')} + (k - 1) % 2) % ${VOLUNTEER_TAGS.length}]`,
    updated_at: childUpdatedAt(n, 'k', 'volunteer_tags'),
  });
}

/** Rows 1..n are invoices of a person (and of that person's firm, if any); the rest are firm-only invoices, one per firm. */
function productBalances(d: DatasetSql): Load {
  const n = d.noise;
  const personRows = personProductBalances(d.plan.people);
  return d.insert('product_balances', d.plan.children.product_balances, {
    id: 'k',
    person_id: 'person_id',
    firm_id: `CASE WHEN person_id IS NULL THEN k - ${personRows} ELSE ${d.personFirmId('person_id')} END`,
    product: n.pick(['Peer review', 'Firm directory listing', 'Tax guide', 'Audit manual', 'Webinar bundle', 'Conference recording'], 'k', 'product_balances.product'),
    amount: n.money(2500, 'k', 'product_balances.amount'),
    due_on: `DATE '2023-01-31' + ${n.below(900, 'k', 'product_balances.due')}::int`,
    updated_at: childUpdatedAt(n, 'k', 'product_balances'),
  }, { person_id: `CASE WHEN k <= ${personRows} THEN ${n.id(d.plan.people, 'k', 'product_balances.person')} END` });
}

/** The "Related" tables of events; each event gets the same number of rows of each. */
export function eventChildLoads(d: DatasetSql): Load[] {
  const n = d.noise;
  const rows = d.plan.children;
  const { events } = d.plan;
  const ordinal = `(1 + (k - 1) / ${Math.max(1, events)})`;
  const child = (table: string, columns: Record<string, string>) =>
    d.insert(table, rows[table as keyof typeof rows], {
      id: 'k',
      ...columns,
      updated_at: childUpdatedAt(n, 'k', table),
    }, { event_id: `1 + (k - 1) % ${Math.max(1, events)}` });

  return [
    child('event_leaders', {
      event_id: 'event_id',
      person_id: n.id(d.plan.people, 'k', 'event_leaders.person'),
      role: n.pick(['Speaker', 'Moderator', 'Instructor', 'Panelist'], 'k', 'event_leaders.role'),
      sort_order: ordinal,
    }),
    child('event_credits', {
      event_id: 'event_id',
      credit_type: n.pick(['CPE', 'Ethics CPE', 'CLE', 'CFP', 'EA'], 'k', 'event_credits.type'),
      hours: `(1 + ${n.below(16, 'k', 'event_credits.hours')}) / 2.0`,
    }),
    child('event_sessions', {
      event_id: 'event_id',
      title: `'Session ' || ${ordinal} || ': ' || ${n.pick(EVENT_TOPICS, 'k', 'event_sessions.topic')}`,
      starts_at: `${d.eventStartsAt('event_id')} + (${ordinal} - 1) * INTERVAL '90 minutes'`,
      ends_at: `${d.eventStartsAt('event_id')} + (${ordinal} - 1) * INTERVAL '90 minutes' + INTERVAL '75 minutes'`,
      room: n.sometimesNull(20, `'Room ' || (100 + ${n.below(20, 'k', 'event_sessions.room')})`, 'k', 'event_sessions.room'),
    }),
    child('event_options', {
      event_id: 'event_id',
      name: n.pick(['Lunch', 'Printed materials', 'Parking', 'Networking dinner', 'Recording access'], 'k', 'event_options.name'),
      price: n.money(120, 'k', 'event_options.price'),
      capacity: n.sometimesNull(50, `10 + ${n.below(200, 'k', 'event_options.capacity')}`, 'k', 'event_options.capacity'),
    }),
    child('event_fees', {
      event_id: 'event_id',
      billing_class_id: n.id(size('billing_classes'), 'k', 'event_fees.class'),
      amount: n.money(800, 'k', 'event_fees.amount'),
      early_bird: `${ordinal} % 2 = 1`,
    }),
    child('event_ematerials', {
      event_id: 'event_id',
      title: `${n.pick(['Slides', 'Handout', 'Workbook', 'Recording', 'Reading list'], 'k', 'event_ematerials.kind')} || ' ' || event_id`,
      url: `'https://materials.example.org/events/' || event_id || '/' || k || '.pdf'`,
      available_from: n.sometimesNull(10, `(${d.eventStartsAt('event_id')} AT TIME ZONE 'UTC')::date - 7`, 'k', 'event_ematerials.available'),
    }),
    relatedEvents(d),
  ];
}

/** Composite key (event_id, related_event_id): 2k follows 2k-1 (previous edition), 3j is in the same series as 3j-2. */
function relatedEvents(d: DatasetSql): Load {
  const editions = previousEditionLinks(d.plan.events);
  return d.insert('related_events', d.plan.children.related_events, {
    event_id: `CASE WHEN k <= ${editions} THEN 2 * k ELSE 3 * (k - ${editions}) END`,
    related_event_id: `CASE WHEN k <= ${editions} THEN 2 * k - 1 ELSE 3 * (k - ${editions}) - 2 END`,
    relation: `CASE WHEN k <= ${editions} THEN 'previous_edition' ELSE 'same_series' END`,
    updated_at: childUpdatedAt(d.noise, 'k', 'related_events'),
  });
}
