-- The association website on MariaDB/MySQL (a PHP site's database, WordPress-style): the same
-- tables as examples/association/target-schema.sql, with the website's OWN ids from AUTO_INCREMENT
-- counters that start far away from the association's ids, InnoDB foreign keys to its own ids,
-- a few renamed columns and tables, and `archived` flags on people, firms and events.
-- Generated from the PostgreSQL version by hand-checked rules (identity -> AUTO_INCREMENT,
-- timestamptz -> DATETIME(6) in UTC, boolean -> TINYINT(1), unique text -> VARCHAR(191)).
--
-- One deliberate narrowing: people.email is varchar(120), so a longer address is rejected with
-- the column named.
CREATE TABLE ethnicities (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE genders (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE pronouns (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE positions (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE states (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE chapters (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE person_types (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE billing_classes (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE email_types (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE contact_options (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE text_options (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE directory_exclusions (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE legislator_districts (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE member_source_options (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE cities (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;

-- Firm lookups
CREATE TABLE revenue_options (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE business_options (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE firm_type_options (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE firm_language_options (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;

-- Event lookups
CREATE TABLE event_levels (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE event_statuses (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE event_areas (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE companies (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE divisions (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE curriculum_types (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE tax_rules (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
CREATE TABLE vendors (id bigint AUTO_INCREMENT PRIMARY KEY, code varchar(191) NOT NULL UNIQUE, label text NOT NULL) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 1001;
-- Everything else: ids start at 100000001 so they never coincide with association ids.
CREATE TABLE firms (
  id                      bigint AUTO_INCREMENT PRIMARY KEY,
  firm_number             varchar(191) NOT NULL UNIQUE,
  display_name            text NOT NULL,
  email                   text,
  phone                   text,
  website                 text,
  street                  text,
  postal_code             text,
  city_id                 bigint NOT NULL REFERENCES cities (id),
  state_id                bigint NOT NULL REFERENCES states (id),
  revenue_option_id       bigint REFERENCES revenue_options (id),
  business_option_id      bigint REFERENCES business_options (id),
  firm_type_option_id     bigint NOT NULL REFERENCES firm_type_options (id),
  firm_language_option_id bigint REFERENCES firm_language_options (id),
  employee_count          integer NOT NULL,
  created_at              datetime(6) NOT NULL,
  archived                tinyint(1) NOT NULL DEFAULT 0,
  synced_at               datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;

CREATE TABLE people (
  id                      bigint AUTO_INCREMENT PRIMARY KEY,
  given_name              text NOT NULL,
  family_name             text NOT NULL,
  email                   varchar(120),                  -- the deliberate narrowing
  phone                   text,
  birth_date              date,
  membership_status       text NOT NULL,
  family_status           text,
  member_since            date,
  is_firm_admin           tinyint(1) NOT NULL DEFAULT 0,
  street                  text,
  postal_code             text,
  gender_id               bigint NOT NULL REFERENCES genders (id),
  pronoun_id              bigint REFERENCES pronouns (id),
  ethnicity_id            bigint REFERENCES ethnicities (id),
  position_id             bigint REFERENCES positions (id),
  state_id                bigint NOT NULL REFERENCES states (id),
  city_id                 bigint NOT NULL REFERENCES cities (id),
  firm_id                 bigint REFERENCES firms (id),
  chapter_id              bigint REFERENCES chapters (id),
  person_type_id          bigint NOT NULL REFERENCES person_types (id),
  billing_class_id        bigint NOT NULL REFERENCES billing_classes (id),
  email_type_id           bigint REFERENCES email_types (id),
  contact_option_id       bigint REFERENCES contact_options (id),
  text_option_id          bigint REFERENCES text_options (id),
  directory_exclusion_id  bigint REFERENCES directory_exclusions (id),
  legislator_district_id  bigint REFERENCES legislator_districts (id),
  created_at              datetime(6) NOT NULL,
  archived                tinyint(1) NOT NULL DEFAULT 0,
  synced_at               datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
-- MariaDB's default collation compares e-mail addresses case-insensitively already.
CREATE INDEX people_email_idx ON people (email);
CREATE INDEX people_firm_id_idx ON people (firm_id);

CREATE TABLE events (
  id                  bigint AUTO_INCREMENT PRIMARY KEY,
  event_code          varchar(191) NOT NULL UNIQUE,
  name                text NOT NULL,
  description         text,
  starts_at           datetime(6) NOT NULL,
  ends_at             datetime(6) NOT NULL,
  location            text,
  capacity            integer,
  price               decimal(10,2) NOT NULL,
  event_level_id      bigint NOT NULL REFERENCES event_levels (id),
  event_status_id     bigint NOT NULL REFERENCES event_statuses (id),
  event_area_id       bigint REFERENCES event_areas (id),
  company_id          bigint REFERENCES companies (id),
  division_id         bigint REFERENCES divisions (id),
  curriculum_type_id  bigint REFERENCES curriculum_types (id),
  tax_rule_id         bigint NOT NULL REFERENCES tax_rules (id),
  vendor_id           bigint REFERENCES vendors (id),
  created_at          datetime(6) NOT NULL,
  archived            tinyint(1) NOT NULL DEFAULT 0,
  synced_at           datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;

-- People "Related" tables
CREATE TABLE email_preferences (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES people (id), email_type_id bigint NOT NULL REFERENCES email_types (id),
  topic text NOT NULL, opted_in tinyint(1) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE group_memberships (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES people (id), society text NOT NULL, member_number text, member_since date
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE interests (                  -- person_interests in the association
  id bigint AUTO_INCREMENT PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES people (id), interest text NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE person_languages (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES people (id), language text NOT NULL, proficiency text NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE subscriptions (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES people (id), publication text NOT NULL,
  starts_on date NOT NULL, ends_on date, auto_renew tinyint(1) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE member_sources (             -- person_member_sources in the association
  id bigint AUTO_INCREMENT PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES people (id),
  member_source_option_id bigint NOT NULL REFERENCES member_source_options (id), noted_on date NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE person_sectors (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES people (id), sector text NOT NULL, is_primary tinyint(1) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE person_skills (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES people (id), skill text NOT NULL, level smallint NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE special_needs (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES people (id), need text NOT NULL, note text
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE volunteer_preferences (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES people (id), preference text NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE volunteer_skills (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES people (id), skill text NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE volunteer_tags (             -- composite key (person_id, tag) in the association
  id bigint AUTO_INCREMENT PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES people (id), tag text NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE dues_balances (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES people (id), period text NOT NULL,
  amount decimal(12,2) NOT NULL, due_on date NOT NULL, paid tinyint(1) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE chapter_balances (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES people (id), chapter_id bigint NOT NULL REFERENCES chapters (id),
  amount decimal(12,2) NOT NULL, due_on date NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE product_balances (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  person_id bigint REFERENCES people (id), firm_id bigint REFERENCES firms (id), product text NOT NULL,
  amount decimal(12,2) NOT NULL, due_on date NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE registrations (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES people (id), event_id bigint NOT NULL REFERENCES events (id),
  status text NOT NULL, registered_at datetime(6) NOT NULL, amount_paid decimal(10,2) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE event_balances (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  person_id bigint NOT NULL REFERENCES people (id), registration_id bigint NOT NULL REFERENCES registrations (id),
  amount decimal(12,2) NOT NULL, due_on date NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;

-- Events "Related" tables
CREATE TABLE event_leaders (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  event_id bigint NOT NULL REFERENCES events (id), person_id bigint NOT NULL REFERENCES people (id),
  role text NOT NULL, sort_order integer NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE event_credits (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  event_id bigint NOT NULL REFERENCES events (id), credit_type text NOT NULL, hours decimal(5,2) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE event_sessions (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  event_id bigint NOT NULL REFERENCES events (id), title text NOT NULL,
  starts_at datetime(6) NOT NULL, ends_at datetime(6) NOT NULL, room text
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE event_options (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  event_id bigint NOT NULL REFERENCES events (id), name text NOT NULL,
  price decimal(10,2) NOT NULL, capacity integer
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE event_fees (
  id bigint AUTO_INCREMENT PRIMARY KEY,
  event_id bigint NOT NULL REFERENCES events (id), billing_class_id bigint NOT NULL REFERENCES billing_classes (id),
  amount decimal(10,2) NOT NULL, early_bird tinyint(1) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE related_events (             -- composite key (event_id, related_event_id) in the association
  id bigint AUTO_INCREMENT PRIMARY KEY,
  event_id bigint NOT NULL REFERENCES events (id), related_event_id bigint NOT NULL REFERENCES events (id),
  relation text NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;
CREATE TABLE event_materials (            -- event_ematerials in the association
  id bigint AUTO_INCREMENT PRIMARY KEY,
  event_id bigint NOT NULL REFERENCES events (id), title text NOT NULL, url text NOT NULL, available_from date
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 AUTO_INCREMENT = 100000001;

-- Parent columns: the website shows a person's or an event's related rows.
CREATE INDEX email_preferences_person_id_idx ON email_preferences (person_id);
CREATE INDEX group_memberships_person_id_idx ON group_memberships (person_id);
CREATE INDEX interests_person_id_idx ON interests (person_id);
CREATE INDEX person_languages_person_id_idx ON person_languages (person_id);
CREATE INDEX subscriptions_person_id_idx ON subscriptions (person_id);
CREATE INDEX member_sources_person_id_idx ON member_sources (person_id);
CREATE INDEX person_sectors_person_id_idx ON person_sectors (person_id);
CREATE INDEX person_skills_person_id_idx ON person_skills (person_id);
CREATE INDEX special_needs_person_id_idx ON special_needs (person_id);
CREATE INDEX volunteer_preferences_person_id_idx ON volunteer_preferences (person_id);
CREATE INDEX volunteer_skills_person_id_idx ON volunteer_skills (person_id);
CREATE INDEX volunteer_tags_person_id_idx ON volunteer_tags (person_id);
CREATE INDEX dues_balances_person_id_idx ON dues_balances (person_id);
CREATE INDEX chapter_balances_person_id_idx ON chapter_balances (person_id);
CREATE INDEX product_balances_person_id_idx ON product_balances (person_id);
CREATE INDEX registrations_person_id_idx ON registrations (person_id);
CREATE INDEX event_balances_person_id_idx ON event_balances (person_id);
CREATE INDEX event_leaders_person_id_idx ON event_leaders (person_id);
CREATE INDEX product_balances_firm_id_idx ON product_balances (firm_id);
CREATE INDEX event_balances_registration_id_idx ON event_balances (registration_id);
CREATE INDEX registrations_event_id_idx ON registrations (event_id);
CREATE INDEX event_leaders_event_id_idx ON event_leaders (event_id);
CREATE INDEX event_credits_event_id_idx ON event_credits (event_id);
CREATE INDEX event_sessions_event_id_idx ON event_sessions (event_id);
CREATE INDEX event_options_event_id_idx ON event_options (event_id);
CREATE INDEX event_fees_event_id_idx ON event_fees (event_id);
CREATE INDEX related_events_event_id_idx ON related_events (event_id);
CREATE INDEX event_materials_event_id_idx ON event_materials (event_id);
