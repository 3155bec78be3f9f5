/** Fixed contents of the association's lookup tables: [code, name], ids are 1..n in this order. */
export type LookupRows = readonly (readonly [code: string, name: string])[];

const numbered = (prefix: string, label: string, n: number): LookupRows =>
  Array.from({ length: n }, (_, i) => {
    const nn = String(i + 1).padStart(2, '0');
    return [`${prefix}-${nn}`, `${label} ${nn}`] as const;
  });

export const LOOKUPS = {
  // People "Required"
  ethnicities: [
    ['ASIAN', 'Asian'], ['BLACK', 'Black or African American'], ['HISPANIC', 'Hispanic or Latino'],
    ['MENA', 'Middle Eastern or North African'], ['NATIVE', 'American Indian or Alaska Native'],
    ['PACIFIC', 'Native Hawaiian or Pacific Islander'], ['WHITE', 'White'], ['MULTI', 'Two or more'],
    ['UNDISCLOSED', 'Prefer not to say'],
  ],
  genders: [['F', 'Female'], ['M', 'Male'], ['X', 'Non-binary'], ['U', 'Prefer not to say']],
  pronouns: [['SHE', 'she/her'], ['HE', 'he/him'], ['THEY', 'they/them'], ['ANY', 'any pronouns'], ['NONE', 'prefer not to say']],
  positions: [
    ['PARTNER', 'Partner'], ['MANAGER', 'Manager'], ['SENIOR', 'Senior Accountant'], ['STAFF', 'Staff Accountant'],
    ['CFO', 'Chief Financial Officer'], ['CONTROLLER', 'Controller'], ['AUDITOR', 'Internal Auditor'],
    ['TAXMGR', 'Tax Manager'], ['CONSULT', 'Consultant'], ['PROF', 'Professor'], ['STUDENT', 'Student'], ['RETIRED', 'Retired'],
  ],
  states: [
    ['CA', 'California'], ['NY', 'New York'], ['TX', 'Texas'], ['FL', 'Florida'], ['IL', 'Illinois'],
    ['PA', 'Pennsylvania'], ['OH', 'Ohio'], ['GA', 'Georgia'], ['NC', 'North Carolina'], ['MI', 'Michigan'],
    ['NJ', 'New Jersey'], ['VA', 'Virginia'], ['WA', 'Washington'], ['MA', 'Massachusetts'], ['CO', 'Colorado'],
  ],
  chapters: [
    ['BAY', 'Bay Area Chapter'], ['CAPITAL', 'Capital Chapter'], ['COASTAL', 'Coastal Chapter'], ['DELTA', 'Delta Chapter'],
    ['HIGHLAND', 'Highland Chapter'], ['LAKES', 'Lakes Chapter'], ['METRO', 'Metro Chapter'], ['PIEDMONT', 'Piedmont Chapter'],
    ['RIVER', 'River Valley Chapter'], ['SUMMIT', 'Summit Chapter'],
  ],
  person_types: [
    ['CPA', 'Certified Public Accountant'], ['NONCPA', 'Non-CPA Professional'], ['STUDENT', 'Student'],
    ['ACADEMIC', 'Educator'], ['RETIRED', 'Retired CPA'], ['AFFILIATE', 'Affiliate'],
  ],
  billing_classes: [
    ['STD', 'Standard dues'], ['FIRST', 'First-year member'], ['YOUNG', 'Young professional'], ['LIFE', 'Life member'],
    ['RETIRED', 'Retired'], ['STUDENT', 'Student'], ['ACADEMIC', 'Academic'], ['WAIVED', 'Waived'],
  ],
  email_types: [['WORK', 'Work'], ['HOME', 'Home'], ['OTHER', 'Other']],
  contact_options: [['EMAIL', 'E-mail'], ['PHONE', 'Phone'], ['MAIL', 'Postal mail'], ['NONE', 'Do not contact']],
  text_options: [['ALL', 'All text messages'], ['URGENT', 'Urgent only'], ['NONE', 'No text messages']],
  directory_exclusions: [['ADDRESS', 'Hide address'], ['PHONE', 'Hide phone'], ['EMAIL', 'Hide e-mail'], ['ALL', 'Exclude from directory']],
  legislator_districts: [...numbered('HD', 'House District', 12), ...numbered('SD', 'Senate District', 8)],
  member_source_options: [
    ['WEB', 'Website'], ['REFERRAL', 'Referred by a member'], ['EVENT', 'Event attendee'], ['EMPLOYER', 'Employer program'],
    ['CAMPUS', 'Campus outreach'], ['SOCIAL', 'Social media'], ['MAIL', 'Direct mail'],
    ['LEGACY', 'Legacy import'], // never referenced: applyDemoChanges deletes it as a lookup without dependants
  ],
  cities: [
    ['SFO', 'San Francisco'], ['LAX', 'Los Angeles'], ['SAN', 'San Diego'], ['NYC', 'New York'], ['BUF', 'Buffalo'],
    ['AUS', 'Austin'], ['HOU', 'Houston'], ['DAL', 'Dallas'], ['MIA', 'Miami'], ['ORL', 'Orlando'], ['CHI', 'Chicago'],
    ['PHL', 'Philadelphia'], ['PIT', 'Pittsburgh'], ['CLE', 'Cleveland'], ['CMH', 'Columbus'], ['ATL', 'Atlanta'],
    ['CLT', 'Charlotte'], ['RDU', 'Raleigh'], ['DTW', 'Detroit'], ['GRR', 'Grand Rapids'], ['EWR', 'Newark'],
    ['RIC', 'Richmond'], ['SEA', 'Seattle'], ['SPO', 'Spokane'], ['BOS', 'Boston'], ['DEN', 'Denver'],
    ['SAC', 'Sacramento'], ['TPA', 'Tampa'], ['ALB', 'Albany'], ['NOR', 'Norfolk'],
  ],
  // Firm "Required"
  revenue_options: [
    ['R0', 'Under $1M'], ['R1', '$1M to $5M'], ['R5', '$5M to $25M'], ['R25', '$25M to $100M'], ['R100', 'Over $100M'], ['UNK', 'Not disclosed'],
  ],
  business_options: [
    ['AUDIT', 'Audit and assurance'], ['TAX', 'Tax'], ['ADVISORY', 'Advisory'], ['PAYROLL', 'Payroll'], ['FORENSIC', 'Forensic accounting'],
    ['ESTATE', 'Estate planning'], ['BOOKS', 'Bookkeeping'], ['IT', 'IT consulting'], ['VALUATION', 'Valuation'], ['GOV', 'Government'],
  ],
  firm_type_options: [
    ['SOLE', 'Sole practitioner'], ['LOCAL', 'Local firm'], ['REGIONAL', 'Regional firm'], ['NATIONAL', 'National firm'],
    ['INDUSTRY', 'Industry'], ['GOVT', 'Government agency'],
  ],
  firm_language_options: [['EN', 'English'], ['ES', 'Spanish'], ['ZH', 'Chinese'], ['VI', 'Vietnamese'], ['KO', 'Korean'], ['FR', 'French']],
  // Event "Required"
  event_levels: [['BASIC', 'Basic'], ['INTER', 'Intermediate'], ['ADV', 'Advanced'], ['UPDATE', 'Update']],
  event_statuses: [['DRAFT', 'Draft'], ['OPEN', 'Open for registration'], ['FULL', 'Sold out'], ['CANCELLED', 'Cancelled'], ['CLOSED', 'Closed']],
  event_areas: [
    ['TAX', 'Taxation'], ['AUDIT', 'Auditing'], ['ETHICS', 'Ethics'], ['ACCT', 'Accounting'], ['TECH', 'Technology'],
    ['MGMT', 'Management'], ['FIN', 'Finance'], ['LAW', 'Business law'], ['PERS', 'Personal development'], ['GOV', 'Governmental'],
  ],
  companies: [
    ['NORTHWIND', 'Northwind Learning'], ['BLUEOAK', 'Blue Oak Seminars'], ['LEDGER', 'Ledger Line Institute'],
    ['SUMMIT', 'Summit CPE'], ['BRIGHT', 'Bright Path Training'], ['HARBOR', 'Harbor Professional Education'],
    ['PINNACLE', 'Pinnacle Courses'], ['CEDAR', 'Cedar Hill Academy'], ['REDWOOD', 'Redwood Tax School'],
    ['IRONGATE', 'Iron Gate Audit Academy'], ['MERIDIAN', 'Meridian Finance Forum'], ['ASSOC', 'The Association'],
  ],
  divisions: [
    ['CPE', 'Continuing education'], ['CONF', 'Conferences'], ['COMM', 'Committees'], ['YP', 'Young professionals'],
    ['FOUND', 'Foundation'], ['CHAP', 'Chapter events'],
  ],
  curriculum_types: [
    ['GROUP', 'Group live'], ['WEBINAR', 'Group internet-based'], ['SELF', 'Self-study'], ['NANO', 'Nano-learning'],
    ['BLENDED', 'Blended learning'], ['CONF', 'Conference'], ['PEER', 'Peer review'], ['ONDEMAND', 'On demand'],
  ],
  tax_rules: [['EXEMPT', 'Tax exempt'], ['STD', 'Standard sales tax'], ['REDUCED', 'Reduced rate'], ['DIGITAL', 'Digital services tax']],
  vendors: [
    ['AVHALL', 'AV Hall Rentals'], ['CATERCO', 'Capital Catering'], ['PRINTPRO', 'PrintPro'], ['STREAMIT', 'StreamIt Webcasts'],
    ['HOTELGRP', 'Grand Hotel Group'], ['BADGES', 'Badge Express'], ['SECURE', 'Secure Venues'], ['PHOTO', 'Event Photo Co'],
    ['TRANSL', 'Interpreters United'], ['SIGNS', 'Sign Shop'], ['LMS', 'Learning Portal Inc'], ['COFFEE', 'Coffee Cart Co'],
  ],
} satisfies Record<string, LookupRows>;

export type LookupTable = keyof typeof LOOKUPS;
export const LOOKUP_TABLES = Object.keys(LOOKUPS) as LookupTable[];

/** How many rows of a lookup the generated data may reference (member_source_options keeps LEGACY unused). */
export function referencedLookupSize(table: LookupTable): number {
  const size = LOOKUPS[table].length;
  return table === 'member_source_options' ? size - 1 : size;
}
