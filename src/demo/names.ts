import type { SqlNoise } from './sql-noise.js';

export const FIRST_NAMES = [
  'Anna', 'Bram', 'Carlos', 'Chloe', 'Daniel', 'Daan', 'Elena', 'Emma', 'Fatima', 'Femke', 'George', 'Grace',
  'Hannah', 'Hugo', 'Isabel', 'Ivan', 'James', 'Julia', 'Kenji', 'Kim', 'Laura', 'Liam', 'Lucas', 'Maria',
  'Mateo', 'Mei', 'Michael', 'Mohammed', 'Nadia', 'Noah', 'Olivia', 'Omar', 'Patrick', 'Priya', 'Quinn', 'Rachel',
  'Raj', 'Renée', 'Sam', 'Sara', 'Sofia', 'Stephen', 'Tariq', 'Thomas', 'Uma', 'Victor', 'Wei', 'William',
  'Xavier', 'Yara', 'Yusuf', 'Zoe', 'José', 'Zoë', 'Aiden', 'Beatriz', 'Chen', 'Dmitri', 'Esther', 'Felix',
];

export const LAST_NAMES = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez',
  'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Perez',
  'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson', 'Walker', 'Young', 'Allen',
  'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores', 'Green', 'Adams', 'Nelson', 'Baker', 'Hall',
  'Rivera', 'Campbell', 'Mitchell', 'Carter', 'Roberts', 'de Vries', 'Jansen', 'van Dijk', 'Bakker', 'Visser',
  'Müller', 'Schmidt', 'Kowalski', 'Novak', "O'Brien", "O'Connor", 'Murphy', 'Kelly', 'Chen', 'Wang', 'Li', 'Zhang',
  'Kim', 'Park', 'Patel', 'Shah', 'Singh', 'Khan', 'Ali', 'Cohen', 'Levi', 'Rossi', 'Russo', 'Dubois', 'García',
];

export const EMAIL_DOMAINS = ['example.org', 'example.com', 'mail.example', 'cpa.example', 'firm.example.net'];

/** A name as it appears in an e-mail address: plain ASCII letters, no spaces or apostrophes. */
const asciiName = (name: string) => name.normalize('NFD').replace(/[^A-Za-z]/g, '');

/**
 * SQL for the parts of a person's e-mail address. Picked with the same tags as the first and
 * last names, so they spell the same person's name; ASCII only, so every lower-casing
 * (PostgreSQL in any locale, JavaScript) agrees. No lower()/translate() at run time: those are
 * slow enough to matter for a million rows.
 */
export function emailNameParts(noise: SqlNoise, row: string, tags: { first: string; last: string; domain: string }) {
  const first = FIRST_NAMES.map(asciiName);
  const last = LAST_NAMES.map(asciiName);
  const lower = (names: string[]) => names.map((s) => s.toLowerCase());
  return {
    lowerLocal: `${noise.pick(lower(first), row, tags.first)} || '.' || ${noise.pick(lower(last), row, tags.last)}`,
    mixedLocal: `${noise.pick(first, row, tags.first)} || '.' || ${noise.pick(last, row, tags.last)}`,
    lowerDomain: noise.pick(EMAIL_DOMAINS, row, tags.domain),
    upperDomain: noise.pick(EMAIL_DOMAINS.map((s) => s.toUpperCase()), row, tags.domain),
  };
}
