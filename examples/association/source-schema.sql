-- Association system of record ("Am.net"-style): people, firms and events with their
-- lookup tables ("Required") and child tables ("Related").
--
-- Every table has a primary key and `updated_at timestamptz NOT NULL` with an index on
-- (updated_at, <key>) so incremental reads can page through ties safely.
--
-- The file has two parts. Running it whole (psql -f) gives an empty, fully constrained
-- schema. The demo generator (src/demo/generate.ts) runs the part above the
-- `ferry:post-load` marker, bulk-loads the data, then runs the part below it, because
-- building indexes and checking foreign keys once is much faster than per row.

-- People lookups ("Required" by people)
CREATE TABLE ethnicities (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE genders (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE pronouns (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE positions (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE states (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE chapters (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE person_types (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE billing_classes (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE email_types (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE contact_options (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE text_options (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE directory_exclusions (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE legislator_districts (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE member_source_options (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE cities (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);

-- Firm lookups ("Required" by firms)
CREATE TABLE revenue_options (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE business_options (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE firm_type_options (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE firm_language_options (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);

-- Event lookups ("Required" by events)
CREATE TABLE event_levels (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE event_statuses (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE event_areas (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE companies (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE divisions (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE curriculum_types (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE tax_rules (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE vendors (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, updated_at timestamptz NOT NULL);
-- Firms
CREATE TABLE firms (
  id                      bigint PRIMARY KEY,
  code                    text NOT NULL UNIQUE,          -- firm number shown to members
  name                    text NOT NULL,
  email                   text,
  phone                   text,
  website                 text,
  address_line            text,
  postal_code             text,
  city_id                 bigint NOT NULL,
  state_id                bigint NOT NULL,
  revenue_option_id       bigint,
  business_option_id      bigint,
  firm_type_option_id     bigint NOT NULL,
  firm_language_option_id bigint,
  employee_count          integer NOT NULL,
  created_at              timestamptz NOT NULL,
  updated_at              timestamptz NOT NULL
);

-- People
CREATE TABLE people (
  id                      bigint PRIMARY KEY,
  first_name              text NOT NULL,
  last_name               text NOT NULL,
  email                   text,
  phone                   text,
  birth_date              date,
  member_status           text NOT NULL,                 -- Member, Friend, Lapsed, Prospect, Retired
  family_status           text,
  member_since            date,
  is_firm_admin           boolean NOT NULL,
  address_line            text,
  postal_code             text,
  gender_id               bigint NOT NULL,
  pronoun_id              bigint,
  ethnicity_id            bigint,
  position_id             bigint,
  state_id                bigint NOT NULL,
  city_id                 bigint NOT NULL,
  firm_id                 bigint,                        -- no foreign key: see the note at the constraints
  chapter_id              bigint,
  person_type_id          bigint NOT NULL,
  billing_class_id        bigint NOT NULL,
  email_type_id           bigint,
  contact_option_id       bigint,
  text_option_id          bigint,
  directory_exclusion_id  bigint,
  legislator_district_id  bigint,
  created_at              timestamptz NOT NULL,
  updated_at              timestamptz NOT NULL
);

-- Events
CREATE TABLE events (
  id                  bigint PRIMARY KEY,
  code                text NOT NULL UNIQUE,
  title               text NOT NULL,
  description         text,
  starts_at           timestamptz NOT NULL,
  ends_at             timestamptz NOT NULL,
  location            text,
  capacity            integer,
  price               numeric(10,2) NOT NULL,
  event_level_id      bigint NOT NULL,
  event_status_id     bigint NOT NULL,
  event_area_id       bigint,
  company_id          bigint,
  division_id         bigint,
  curriculum_type_id  bigint,
  tax_rule_id         bigint NOT NULL,
  vendor_id           bigint,
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL
);

-- People "Related" tables
CREATE TABLE email_preferences (
  id bigint PRIMARY KEY, person_id bigint NOT NULL, email_type_id bigint NOT NULL,
  topic text NOT NULL, opted_in boolean NOT NULL, updated_at timestamptz NOT NULL
);
CREATE TABLE group_memberships (          -- member of another society
  id bigint PRIMARY KEY, person_id bigint NOT NULL, society text NOT NULL,
  member_number text, member_since date, updated_at timestamptz NOT NULL
);
CREATE TABLE person_interests (
  id bigint PRIMARY KEY, person_id bigint NOT NULL, interest text NOT NULL, updated_at timestamptz NOT NULL
);
CREATE TABLE person_languages (
  id bigint PRIMARY KEY, person_id bigint NOT NULL, language text NOT NULL,
  proficiency text NOT NULL, updated_at timestamptz NOT NULL
);
CREATE TABLE subscriptions (
  id bigint PRIMARY KEY, person_id bigint NOT NULL, publication text NOT NULL,
  starts_on date NOT NULL, ends_on date, auto_renew boolean NOT NULL, updated_at timestamptz NOT NULL
);
CREATE TABLE person_member_sources (
  id bigint PRIMARY KEY, person_id bigint NOT NULL, member_source_option_id bigint NOT NULL,
  noted_on date NOT NULL, updated_at timestamptz NOT NULL
);
CREATE TABLE person_sectors (
  id bigint PRIMARY KEY, person_id bigint NOT NULL, sector text NOT NULL,
  is_primary boolean NOT NULL, updated_at timestamptz NOT NULL
);
CREATE TABLE person_skills (
  id bigint PRIMARY KEY, person_id bigint NOT NULL, skill text NOT NULL,
  level smallint NOT NULL, updated_at timestamptz NOT NULL
);
CREATE TABLE special_needs (
  id bigint PRIMARY KEY, person_id bigint NOT NULL, need text NOT NULL, note text, updated_at timestamptz NOT NULL
);
CREATE TABLE volunteer_preferences (
  id bigint PRIMARY KEY, person_id bigint NOT NULL, preference text NOT NULL, updated_at timestamptz NOT NULL
);
CREATE TABLE volunteer_skills (
  id bigint PRIMARY KEY, person_id bigint NOT NULL, skill text NOT NULL, updated_at timestamptz NOT NULL
);
CREATE TABLE volunteer_tags (             -- link table with a composite key
  person_id bigint NOT NULL, tag text NOT NULL, updated_at timestamptz NOT NULL,
  PRIMARY KEY (person_id, tag)
);
CREATE TABLE dues_balances (
  id bigint PRIMARY KEY, person_id bigint NOT NULL, period text NOT NULL,
  amount numeric(12,2) NOT NULL, due_on date NOT NULL, paid boolean NOT NULL, updated_at timestamptz NOT NULL
);
CREATE TABLE chapter_balances (
  id bigint PRIMARY KEY, person_id bigint NOT NULL, chapter_id bigint NOT NULL,
  amount numeric(12,2) NOT NULL, due_on date NOT NULL, updated_at timestamptz NOT NULL
);
CREATE TABLE product_balances (           -- invoices of a person, or of a firm only (person_id NULL)
  id bigint PRIMARY KEY, person_id bigint, firm_id bigint, product text NOT NULL,
  amount numeric(12,2) NOT NULL, due_on date NOT NULL, updated_at timestamptz NOT NULL,
  CHECK (person_id IS NOT NULL OR firm_id IS NOT NULL)
);
CREATE TABLE registrations (
  id bigint PRIMARY KEY, person_id bigint NOT NULL, event_id bigint NOT NULL,
  status text NOT NULL, registered_at timestamptz NOT NULL, amount_paid numeric(10,2) NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE event_balances (             -- tied to a registration
  id bigint PRIMARY KEY, person_id bigint NOT NULL, registration_id bigint NOT NULL,
  amount numeric(12,2) NOT NULL, due_on date NOT NULL, updated_at timestamptz NOT NULL
);

-- Events "Related" tables
CREATE TABLE event_leaders (
  id bigint PRIMARY KEY, event_id bigint NOT NULL, person_id bigint NOT NULL,
  role text NOT NULL, sort_order integer NOT NULL, updated_at timestamptz NOT NULL
);
CREATE TABLE event_credits (
  id bigint PRIMARY KEY, event_id bigint NOT NULL, credit_type text NOT NULL,
  hours numeric(5,2) NOT NULL, updated_at timestamptz NOT NULL
);
CREATE TABLE event_sessions (
  id bigint PRIMARY KEY, event_id bigint NOT NULL, title text NOT NULL,
  starts_at timestamptz NOT NULL, ends_at timestamptz NOT NULL, room text, updated_at timestamptz NOT NULL
);
CREATE TABLE event_options (
  id bigint PRIMARY KEY, event_id bigint NOT NULL, name text NOT NULL,
  price numeric(10,2) NOT NULL, capacity integer, updated_at timestamptz NOT NULL
);
CREATE TABLE event_fees (
  id bigint PRIMARY KEY, event_id bigint NOT NULL, billing_class_id bigint NOT NULL,
  amount numeric(10,2) NOT NULL, early_bird boolean NOT NULL, updated_at timestamptz NOT NULL
);
CREATE TABLE related_events (             -- link table with a composite key
  event_id bigint NOT NULL, related_event_id bigint NOT NULL, relation text NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (event_id, related_event_id),
  CHECK (event_id <> related_event_id)
);
CREATE TABLE event_ematerials (
  id bigint PRIMARY KEY, event_id bigint NOT NULL, title text NOT NULL, url text NOT NULL,
  available_from date, updated_at timestamptz NOT NULL
);

-- ferry:post-load

-- Tie-safe incremental reads: ORDER BY updated_at, <key> WHERE (updated_at, <key>) > (cursor)
CREATE INDEX ethnicities_updated_at_idx ON ethnicities (updated_at, id);
CREATE INDEX genders_updated_at_idx ON genders (updated_at, id);
CREATE INDEX pronouns_updated_at_idx ON pronouns (updated_at, id);
CREATE INDEX positions_updated_at_idx ON positions (updated_at, id);
CREATE INDEX states_updated_at_idx ON states (updated_at, id);
CREATE INDEX chapters_updated_at_idx ON chapters (updated_at, id);
CREATE INDEX person_types_updated_at_idx ON person_types (updated_at, id);
CREATE INDEX billing_classes_updated_at_idx ON billing_classes (updated_at, id);
CREATE INDEX email_types_updated_at_idx ON email_types (updated_at, id);
CREATE INDEX contact_options_updated_at_idx ON contact_options (updated_at, id);
CREATE INDEX text_options_updated_at_idx ON text_options (updated_at, id);
CREATE INDEX directory_exclusions_updated_at_idx ON directory_exclusions (updated_at, id);
CREATE INDEX legislator_districts_updated_at_idx ON legislator_districts (updated_at, id);
CREATE INDEX member_source_options_updated_at_idx ON member_source_options (updated_at, id);
CREATE INDEX cities_updated_at_idx ON cities (updated_at, id);
CREATE INDEX revenue_options_updated_at_idx ON revenue_options (updated_at, id);
CREATE INDEX business_options_updated_at_idx ON business_options (updated_at, id);
CREATE INDEX firm_type_options_updated_at_idx ON firm_type_options (updated_at, id);
CREATE INDEX firm_language_options_updated_at_idx ON firm_language_options (updated_at, id);
CREATE INDEX event_levels_updated_at_idx ON event_levels (updated_at, id);
CREATE INDEX event_statuses_updated_at_idx ON event_statuses (updated_at, id);
CREATE INDEX event_areas_updated_at_idx ON event_areas (updated_at, id);
CREATE INDEX companies_updated_at_idx ON companies (updated_at, id);
CREATE INDEX divisions_updated_at_idx ON divisions (updated_at, id);
CREATE INDEX curriculum_types_updated_at_idx ON curriculum_types (updated_at, id);
CREATE INDEX tax_rules_updated_at_idx ON tax_rules (updated_at, id);
CREATE INDEX vendors_updated_at_idx ON vendors (updated_at, id);
CREATE INDEX firms_updated_at_idx ON firms (updated_at, id);
CREATE INDEX people_updated_at_idx ON people (updated_at, id);
CREATE INDEX events_updated_at_idx ON events (updated_at, id);
CREATE INDEX email_preferences_updated_at_idx ON email_preferences (updated_at, id);
CREATE INDEX group_memberships_updated_at_idx ON group_memberships (updated_at, id);
CREATE INDEX person_interests_updated_at_idx ON person_interests (updated_at, id);
CREATE INDEX person_languages_updated_at_idx ON person_languages (updated_at, id);
CREATE INDEX subscriptions_updated_at_idx ON subscriptions (updated_at, id);
CREATE INDEX person_member_sources_updated_at_idx ON person_member_sources (updated_at, id);
CREATE INDEX person_sectors_updated_at_idx ON person_sectors (updated_at, id);
CREATE INDEX person_skills_updated_at_idx ON person_skills (updated_at, id);
CREATE INDEX special_needs_updated_at_idx ON special_needs (updated_at, id);
CREATE INDEX volunteer_preferences_updated_at_idx ON volunteer_preferences (updated_at, id);
CREATE INDEX volunteer_skills_updated_at_idx ON volunteer_skills (updated_at, id);
CREATE INDEX volunteer_tags_updated_at_idx ON volunteer_tags (updated_at, person_id, tag);
CREATE INDEX dues_balances_updated_at_idx ON dues_balances (updated_at, id);
CREATE INDEX chapter_balances_updated_at_idx ON chapter_balances (updated_at, id);
CREATE INDEX product_balances_updated_at_idx ON product_balances (updated_at, id);
CREATE INDEX registrations_updated_at_idx ON registrations (updated_at, id);
CREATE INDEX event_balances_updated_at_idx ON event_balances (updated_at, id);
CREATE INDEX event_leaders_updated_at_idx ON event_leaders (updated_at, id);
CREATE INDEX event_credits_updated_at_idx ON event_credits (updated_at, id);
CREATE INDEX event_sessions_updated_at_idx ON event_sessions (updated_at, id);
CREATE INDEX event_options_updated_at_idx ON event_options (updated_at, id);
CREATE INDEX event_fees_updated_at_idx ON event_fees (updated_at, id);
CREATE INDEX related_events_updated_at_idx ON related_events (updated_at, event_id, related_event_id);
CREATE INDEX event_ematerials_updated_at_idx ON event_ematerials (updated_at, id);

-- Parent columns used to fetch "Related" rows of a record
CREATE INDEX people_firm_id_idx ON people (firm_id);
CREATE INDEX email_preferences_person_id_idx ON email_preferences (person_id);
CREATE INDEX group_memberships_person_id_idx ON group_memberships (person_id);
CREATE INDEX person_interests_person_id_idx ON person_interests (person_id);
CREATE INDEX person_languages_person_id_idx ON person_languages (person_id);
CREATE INDEX subscriptions_person_id_idx ON subscriptions (person_id);
CREATE INDEX person_member_sources_person_id_idx ON person_member_sources (person_id);
CREATE INDEX person_sectors_person_id_idx ON person_sectors (person_id);
CREATE INDEX person_skills_person_id_idx ON person_skills (person_id);
CREATE INDEX special_needs_person_id_idx ON special_needs (person_id);
CREATE INDEX volunteer_preferences_person_id_idx ON volunteer_preferences (person_id);
CREATE INDEX volunteer_skills_person_id_idx ON volunteer_skills (person_id);
CREATE INDEX dues_balances_person_id_idx ON dues_balances (person_id);
CREATE INDEX chapter_balances_person_id_idx ON chapter_balances (person_id);
CREATE INDEX product_balances_person_id_idx ON product_balances (person_id);
CREATE INDEX registrations_person_id_idx ON registrations (person_id);
CREATE INDEX event_balances_person_id_idx ON event_balances (person_id);
CREATE INDEX product_balances_firm_id_idx ON product_balances (firm_id);
CREATE INDEX registrations_event_id_idx ON registrations (event_id);
CREATE INDEX event_balances_registration_id_idx ON event_balances (registration_id);
CREATE INDEX event_leaders_event_id_idx ON event_leaders (event_id);
CREATE INDEX event_credits_event_id_idx ON event_credits (event_id);
CREATE INDEX event_sessions_event_id_idx ON event_sessions (event_id);
CREATE INDEX event_options_event_id_idx ON event_options (event_id);
CREATE INDEX event_fees_event_id_idx ON event_fees (event_id);
CREATE INDEX event_ematerials_event_id_idx ON event_ematerials (event_id);
CREATE INDEX event_leaders_person_id_idx ON event_leaders (person_id);
CREATE INDEX related_events_related_event_id_idx ON related_events (related_event_id);

-- Foreign keys. people.firm_id deliberately has none: like Am.net, the association keeps
-- employees whose firm record was removed, and the sync must cope with such dangling references.
ALTER TABLE firms
  ADD FOREIGN KEY (city_id) REFERENCES cities,
  ADD FOREIGN KEY (state_id) REFERENCES states,
  ADD FOREIGN KEY (revenue_option_id) REFERENCES revenue_options,
  ADD FOREIGN KEY (business_option_id) REFERENCES business_options,
  ADD FOREIGN KEY (firm_type_option_id) REFERENCES firm_type_options,
  ADD FOREIGN KEY (firm_language_option_id) REFERENCES firm_language_options;
ALTER TABLE people
  ADD FOREIGN KEY (gender_id) REFERENCES genders,
  ADD FOREIGN KEY (pronoun_id) REFERENCES pronouns,
  ADD FOREIGN KEY (ethnicity_id) REFERENCES ethnicities,
  ADD FOREIGN KEY (position_id) REFERENCES positions,
  ADD FOREIGN KEY (state_id) REFERENCES states,
  ADD FOREIGN KEY (city_id) REFERENCES cities,
  ADD FOREIGN KEY (chapter_id) REFERENCES chapters,
  ADD FOREIGN KEY (person_type_id) REFERENCES person_types,
  ADD FOREIGN KEY (billing_class_id) REFERENCES billing_classes,
  ADD FOREIGN KEY (email_type_id) REFERENCES email_types,
  ADD FOREIGN KEY (contact_option_id) REFERENCES contact_options,
  ADD FOREIGN KEY (text_option_id) REFERENCES text_options,
  ADD FOREIGN KEY (directory_exclusion_id) REFERENCES directory_exclusions,
  ADD FOREIGN KEY (legislator_district_id) REFERENCES legislator_districts;
ALTER TABLE events
  ADD FOREIGN KEY (event_level_id) REFERENCES event_levels,
  ADD FOREIGN KEY (event_status_id) REFERENCES event_statuses,
  ADD FOREIGN KEY (event_area_id) REFERENCES event_areas,
  ADD FOREIGN KEY (company_id) REFERENCES companies,
  ADD FOREIGN KEY (division_id) REFERENCES divisions,
  ADD FOREIGN KEY (curriculum_type_id) REFERENCES curriculum_types,
  ADD FOREIGN KEY (tax_rule_id) REFERENCES tax_rules,
  ADD FOREIGN KEY (vendor_id) REFERENCES vendors;
ALTER TABLE email_preferences
  ADD FOREIGN KEY (person_id) REFERENCES people,
  ADD FOREIGN KEY (email_type_id) REFERENCES email_types;
ALTER TABLE group_memberships
  ADD FOREIGN KEY (person_id) REFERENCES people;
ALTER TABLE person_interests
  ADD FOREIGN KEY (person_id) REFERENCES people;
ALTER TABLE person_languages
  ADD FOREIGN KEY (person_id) REFERENCES people;
ALTER TABLE subscriptions
  ADD FOREIGN KEY (person_id) REFERENCES people;
ALTER TABLE person_member_sources
  ADD FOREIGN KEY (person_id) REFERENCES people,
  ADD FOREIGN KEY (member_source_option_id) REFERENCES member_source_options;
ALTER TABLE person_sectors
  ADD FOREIGN KEY (person_id) REFERENCES people;
ALTER TABLE person_skills
  ADD FOREIGN KEY (person_id) REFERENCES people;
ALTER TABLE special_needs
  ADD FOREIGN KEY (person_id) REFERENCES people;
ALTER TABLE volunteer_preferences
  ADD FOREIGN KEY (person_id) REFERENCES people;
ALTER TABLE volunteer_skills
  ADD FOREIGN KEY (person_id) REFERENCES people;
ALTER TABLE volunteer_tags
  ADD FOREIGN KEY (person_id) REFERENCES people;
ALTER TABLE dues_balances
  ADD FOREIGN KEY (person_id) REFERENCES people;
ALTER TABLE chapter_balances
  ADD FOREIGN KEY (person_id) REFERENCES people,
  ADD FOREIGN KEY (chapter_id) REFERENCES chapters;
ALTER TABLE product_balances
  ADD FOREIGN KEY (person_id) REFERENCES people,
  ADD FOREIGN KEY (firm_id) REFERENCES firms;
ALTER TABLE registrations
  ADD FOREIGN KEY (person_id) REFERENCES people,
  ADD FOREIGN KEY (event_id) REFERENCES events;
ALTER TABLE event_balances
  ADD FOREIGN KEY (person_id) REFERENCES people,
  ADD FOREIGN KEY (registration_id) REFERENCES registrations;
ALTER TABLE event_leaders
  ADD FOREIGN KEY (event_id) REFERENCES events,
  ADD FOREIGN KEY (person_id) REFERENCES people;
ALTER TABLE event_credits
  ADD FOREIGN KEY (event_id) REFERENCES events;
ALTER TABLE event_sessions
  ADD FOREIGN KEY (event_id) REFERENCES events;
ALTER TABLE event_options
  ADD FOREIGN KEY (event_id) REFERENCES events;
ALTER TABLE event_fees
  ADD FOREIGN KEY (event_id) REFERENCES events,
  ADD FOREIGN KEY (billing_class_id) REFERENCES billing_classes;
ALTER TABLE related_events
  ADD FOREIGN KEY (event_id) REFERENCES events,
  ADD FOREIGN KEY (related_event_id) REFERENCES events;
ALTER TABLE event_ematerials
  ADD FOREIGN KEY (event_id) REFERENCES events;
