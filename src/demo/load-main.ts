import type { DatasetSql, Load } from './dataset-sql.js';
import { referencedLookupSize as size } from './lookups.js';
import { EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES, emailNameParts } from './names.js';
import { BAD_ROWS, TIMELINE } from './plan.js';
import { createdAt, createdMinute, minutesAfter, ts, updatedAfterCreation } from './sql-time.js';

const STREETS = [
  'Main St', 'Oak Ave', 'Maple Dr', 'Cedar Ln', 'Park Blvd', 'Elm St', 'Washington Ave', 'Lake Rd', 'Hill St',
  'Market St', 'Church St', 'Mill Rd',
];
const EVENT_TOPICS = [
  'Federal Tax', 'State Tax', 'Audit Quality', 'Ethics', 'Data Analytics', 'Not-for-Profit Accounting', 'Leases',
  'Revenue Recognition', 'Fraud Prevention', 'Cybersecurity', 'Payroll', 'Estate Planning', 'Leadership', 'ESG Reporting',
];

/** Street address, postal code and phone number columns shared by people and firms. */
function contactColumns(d: DatasetSql, table: string): Record<string, string> {
  const n = d.noise;
  return {
    // E.164, e.g. +12125550123 (area code 200-999, exchange 555)
    phone: n.sometimesNull(10,
      `'+1' || (2005550000 + ${n.below(800, 'k', `${table}.area`)} * 10000000 + ${n.below(10000, 'k', `${table}.phone`)})`,
      'k', `${table}.phone`),
    address_line: `(1 + ${n.below(9999, 'k', `${table}.house`)}) || ' ' || ${n.pick(STREETS, 'k', `${table}.street`)}`,
    postal_code: `(10000 + ${n.below(90000, 'k', `${table}.postal`)})::text`,
  };
}

export function firmLoads(d: DatasetSql): Load[] {
  const n = d.noise;
  const suffixes = ['& Partners', 'Accountants', 'CPA Group', 'LLP', 'Advisory', 'Tax Services', '& Co.'];
  return [
    d.insert('firms', d.plan.firms, {
      id: 'k',
      code: `'F' || lpad(k::text, 6, '0')`,
      name: `${n.pick(LAST_NAMES, 'k', 'firms.name')} || ' ' || ${n.pick(suffixes, 'k', 'firms.suffix')}`,
      email: n.sometimesNull(10, `'office' || k || '@' || ${n.pick(EMAIL_DOMAINS, 'k', 'firms.domain')}`, 'k', 'firms.email'),
      ...contactColumns(d, 'firms'),
      website: n.sometimesNull(30, `'https://www.firm' || k || '.example.com'`, 'k', 'firms.website'),
      city_id: n.id(size('cities'), 'k', 'firms.city'),
      state_id: n.id(size('states'), 'k', 'firms.state'),
      revenue_option_id: n.sometimesNull(10, n.id(size('revenue_options'), 'k', 'firms.revenue'), 'k', 'firms.revenue'),
      business_option_id: n.sometimesNull(20, n.id(size('business_options'), 'k', 'firms.business'), 'k', 'firms.business'),
      firm_type_option_id: n.id(size('firm_type_options'), 'k', 'firms.type'),
      firm_language_option_id: n.sometimesNull(30, n.id(size('firm_language_options'), 'k', 'firms.language'), 'k', 'firms.language'),
      employee_count: `1 + ${n.below(250, 'k', 'firms.employees')}`,
      created_at: createdAt('c'),
      updated_at: updatedAfterCreation(n, 'k', 'firms', 'c'),
    }, { c: createdMinute(n, 'k', 'firms') }),
  ];
}

export function peopleLoads(d: DatasetSql): Load[] {
  const n = d.noise;
  const { firms } = d.plan;
  const email = emailNameParts(n, 'k', { first: 'people.first', last: 'people.last', domain: 'people.domain' });
  const badRow = (remainder: number) => (d.badRows ? `k % 1000 = ${remainder}` : 'false');
  return [
    d.insert('people', d.plan.people, {
      id: 'k',
      first_name: 'first_name',
      last_name: 'last_name',
      email: `CASE
        WHEN long_email THEN ${email.lowerLocal} || '.' || k || '@' || repeat('accounting-', 10) || 'example.org'
        WHEN ${n.chance(4, 'k', 'people.no_email')} THEN NULL
        WHEN ${n.chance(10, 'k', 'people.email_case')} THEN ${email.mixedLocal} || k || '@' || ${email.upperDomain}
        ELSE ${email.lowerLocal} || k || '@' || ${email.lowerDomain} END`,
      ...contactColumns(d, 'people'),
      birth_date: n.sometimesNull(15, `DATE '1950-01-01' + ${n.below(18000, 'k', 'people.birth')}::int`, 'k', 'people.birth'),
      member_status: n.pick(['Member', 'Member', 'Member', 'Member', 'Member', 'Friend', 'Friend', 'Lapsed', 'Prospect', 'Retired'], 'k', 'people.status'),
      family_status: n.pick(['Single', 'Married', 'Married', 'Partnered', 'Divorced', 'Widowed', null, null], 'k', 'people.family'),
      member_since: n.sometimesNull(20, `DATE '1980-01-01' + ${n.below(16000, 'k', 'people.since')}::int`, 'k', 'people.since'),
      is_firm_admin: `(firm_id IS NOT NULL AND NOT missing_firm AND ${n.chance(4, 'k', 'people.firm_admin')})`,
      gender_id: n.id(size('genders'), 'k', 'people.gender'),
      pronoun_id: n.sometimesNull(30, n.id(size('pronouns'), 'k', 'people.pronoun'), 'k', 'people.pronoun'),
      ethnicity_id: n.sometimesNull(25, n.id(size('ethnicities'), 'k', 'people.ethnicity'), 'k', 'people.ethnicity'),
      position_id: n.sometimesNull(15, n.id(size('positions'), 'k', 'people.position'), 'k', 'people.position'),
      state_id: n.id(size('states'), 'k', 'people.state'),
      city_id: n.id(size('cities'), 'k', 'people.city'),
      firm_id: 'firm_id',
      chapter_id: n.sometimesNull(10, n.id(size('chapters'), 'k', 'people.chapter'), 'k', 'people.chapter'),
      person_type_id: n.id(size('person_types'), 'k', 'people.type'),
      billing_class_id: n.id(size('billing_classes'), 'k', 'people.billing'),
      email_type_id: n.sometimesNull(20, n.id(size('email_types'), 'k', 'people.email_type'), 'k', 'people.email_type'),
      contact_option_id: n.sometimesNull(20, n.id(size('contact_options'), 'k', 'people.contact'), 'k', 'people.contact'),
      text_option_id: n.sometimesNull(40, n.id(size('text_options'), 'k', 'people.text'), 'k', 'people.text'),
      directory_exclusion_id: n.sometimesNull(90, n.id(size('directory_exclusions'), 'k', 'people.directory'), 'k', 'people.directory'),
      legislator_district_id: n.sometimesNull(30, n.id(size('legislator_districts'), 'k', 'people.district'), 'k', 'people.district'),
      created_at: createdAt('c'),
      updated_at: updatedAfterCreation(n, 'k', 'people', 'c'),
    }, {
      first_name: n.pick(FIRST_NAMES, 'k', 'people.first'),
      last_name: n.pick(LAST_NAMES, 'k', 'people.last'),
      long_email: badRow(BAD_ROWS.longEmail),
      missing_firm: badRow(BAD_ROWS.missingFirm),
      firm_id: `CASE WHEN ${badRow(BAD_ROWS.missingFirm)} THEN ${firms} + k ELSE ${d.personFirmId('k')} END`,
      c: createdMinute(n, 'k', 'people'),
    }),
  ];
}

export function eventLoads(d: DatasetSql): Load[] {
  const n = d.noise;
  const formats = ['Update', 'Workshop', 'Conference', 'Seminar', 'Webinar', 'Masterclass'];
  const createdMinutesBeforeStart = `(30 + ${n.below(300, 'k', 'events.created')}) * 1440`;
  return [
    d.insert('events', d.plan.events, {
      id: 'k',
      code: `'EV' || lpad(k::text, 6, '0')`,
      title: `topic || ' ' || ${n.pick(formats, 'k', 'events.format')} || ' ' || extract(year FROM starts_at AT TIME ZONE 'UTC')`,
      description: n.sometimesNull(20, `'Practical ' || lower(topic) || ' session for members and guests.'`, 'k', 'events.description'),
      starts_at: 'starts_at',
      ends_at: `starts_at + (1 + ${n.below(8, 'k', 'events.hours')}) * INTERVAL '1 hour'`,
      location: n.sometimesNull(25, n.pick(['Convention Center', 'Association HQ', 'Grand Hotel', 'Online', 'University Hall'], 'k', 'events.location'), 'k', 'events.location'),
      capacity: n.sometimesNull(10, `20 + ${n.below(480, 'k', 'events.capacity')}`, 'k', 'events.capacity'),
      price: n.money(900, 'k', 'events.price'),
      event_level_id: n.id(size('event_levels'), 'k', 'events.level'),
      event_status_id: n.id(size('event_statuses'), 'k', 'events.status'),
      event_area_id: n.sometimesNull(10, n.id(size('event_areas'), 'k', 'events.area'), 'k', 'events.area'),
      company_id: n.sometimesNull(30, n.id(size('companies'), 'k', 'events.company'), 'k', 'events.company'),
      division_id: n.sometimesNull(20, n.id(size('divisions'), 'k', 'events.division'), 'k', 'events.division'),
      curriculum_type_id: n.sometimesNull(10, n.id(size('curriculum_types'), 'k', 'events.curriculum'), 'k', 'events.curriculum'),
      tax_rule_id: n.id(size('tax_rules'), 'k', 'events.tax'),
      vendor_id: n.sometimesNull(40, n.id(size('vendors'), 'k', 'events.vendor'), 'k', 'events.vendor'),
      created_at: 'created_at',
      updated_at: `CASE WHEN ${n.chance(5, 'k', 'events.bulk')} AND created_at < ${ts(TIMELINE.bulkUpdate)} THEN ${ts(TIMELINE.bulkUpdate)}
        ELSE LEAST(created_at + ${n.below(200 * 1440, 'k', 'events.updated')} * INTERVAL '1 minute', ${ts(TIMELINE.asOf)}) END`,
    }, {
      topic: n.pick(EVENT_TOPICS, 'k', 'events.topic'),
      starts_at: d.eventStartsAt('k'),
      created_at: `LEAST(${d.eventStartsAt('k')} - ${createdMinutesBeforeStart} * INTERVAL '1 minute', ${minutesAfter(TIMELINE.asOf, '-1440')})`,
    }),
  ];
}

export { EVENT_TOPICS };
