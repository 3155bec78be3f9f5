import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../../src/engine/report.js';
import { entityOf, peopleEntity, twoWaySpec, twoWayWorld, type PeopleOptions, type TwoWayWorld } from './two-way-fixture.js';

/**
 * Seed 002's action and condition rules, one case per rule. Church = own system (source),
 * accounts = connected system (target). Each case seeds both systems, runs Full, optionally changes
 * something and runs again, then checks both systems.
 */
interface Case {
  name: string;
  options: PeopleOptions;
  church?: string;
  accounts?: string;
  change?: (w: TwoWayWorld) => Promise<unknown>;
  check: (w: TwoWayWorld, report: RunReport) => Promise<void>;
}

const person = (first: string, last: string, status: string | null, family: string | null) =>
  `(${[first, last, `${first.toLowerCase()}@x.org`, status, family].map((v) => (v === null ? 'NULL' : `'${v}'`)).join(', ')})`;
const churchRows = (...rows: string[]) => `INSERT INTO people (first_name, last_name, email, status, family_status) VALUES ${rows.join(', ')}`;
const accountRows = (...rows: string[]) => `INSERT INTO persons (name_first, name_last, mail, category, marital) VALUES ${rows.join(', ')}`;
const names = async (w: TwoWayWorld, side: 'church' | 'accounts') =>
  (side === 'church'
    ? await w.church(`SELECT first_name AS name FROM people ORDER BY 1`)
    : await w.accounts(`SELECT name_first AS name FROM persons ORDER BY 1`)
  ).map((r) => r.name);

const MARRIED_MEMBERS_OR_FRIENDS = [
  { field: 'status', values: ['Member', 'Friend'] },
  { field: 'family_status', values: ['Married'] },
];

const cases: Case[] = [
  {
    name: 'conditions: AND across fields, OR across one field’s values (married Members or Friends only)',
    options: { actions: ['createInTarget'], sourceConditions: MARRIED_MEMBERS_OR_FRIENDS },
    church: churchRows(
      person('Ann', 'A', 'Member', 'Married'),
      person('Bob', 'B', 'Friend', 'Married'),
      person('Cy', 'C', 'Member', 'Single'),
      person('Di', 'D', 'Lapsed', 'Married'),
      person('Ed', 'E', null, 'Married'),
    ),
    check: async (w, report) => {
      expect(await names(w, 'accounts')).toEqual(['Ann', 'Bob']);
      expect(entityOf(report).categories).toMatchObject({ synchronised: 2, new: 3 });
    },
  },
  {
    name: 'conditions: none means every record',
    options: { actions: ['createInTarget'] },
    church: churchRows(person('Ann', 'A', 'Member', 'Married'), person('Di', 'D', 'Lapsed', null), person('Ed', 'E', null, null)),
    check: async (w) => expect(await names(w, 'accounts')).toEqual(['Ann', 'Di', 'Ed']),
  },
  {
    name: 'conditions: NotIn, IsNull and NotNull',
    options: {
      actions: ['createInTarget'],
      sourceConditions: [
        { field: 'status', operator: 'NotIn', values: ['Lapsed'] },
        { field: 'email', operator: 'NotNull' },
        { field: 'family_status', operator: 'IsNull' },
      ],
    },
    church: churchRows(person('Ann', 'A', 'Member', null), person('Di', 'D', 'Lapsed', null), person('Ed', 'E', null, null), person('Flo', 'F', 'Friend', 'Married')),
    check: async (w) => expect(await names(w, 'accounts')).toEqual(['Ann', 'Ed']),
  },
  {
    name: 'link & unify: John Smith is found in church by its condition, searched in all of accounts (no conditions) and linked; his status is set there',
    options: {
      actions: ['link', 'createInTarget'],
      sourceConditions: [{ field: 'status', values: ['Member'] }],
      targetConditions: [{ field: 'category', values: ['150: Members'] }],
      conflictPolicy: 'SourceWins',
    },
    church: churchRows(person('John', 'Smith', 'Member', 'Married')),
    accounts: accountRows(person('John', 'Smith', null, 'Married')),
    check: async (w, report) => {
      expect(entityOf(report)).toMatchObject({ linked: 1, created: 0 });
      expect(await w.accounts(`SELECT name_first, name_last, category FROM persons`)).toEqual([{ name_first: 'John', name_last: 'Smith', category: 'Member' }]);
      expect(await w.state(`SELECT category FROM ferry.pairs`)).toEqual([{ category: 'synchronised' }]);
    },
  },
  {
    name: 'link & unify from the other side: accounts’ John Smith meets its condition; church’s (no status) is found without conditions and linked',
    options: {
      actions: ['link', 'createInSource'],
      sourceConditions: [{ field: 'status', values: ['Member'] }],
      targetConditions: [{ field: 'category', values: ['150: Members'] }],
      conflictPolicy: 'TargetWins',
    },
    church: churchRows(person('John', 'Smith', null, 'Married')),
    accounts: accountRows(person('John', 'Smith', '150: Members', 'Married')),
    check: async (w, report) => {
      expect(entityOf(report)).toMatchObject({ linked: 1, created: 0 });
      expect(await w.church(`SELECT first_name, status FROM people`)).toEqual([{ first_name: 'John', status: '150: Members' }]);
    },
  },
  {
    name: 'link: neither side meets its conditions, so nothing is linked',
    options: {
      actions: ['link'],
      sourceConditions: [{ field: 'status', values: ['Member'] }],
      targetConditions: [{ field: 'category', values: ['150: Members'] }],
    },
    church: churchRows(person('John', 'Smith', null, null)),
    accounts: accountRows(person('John', 'Smith', null, null)),
    check: async (w, report) => {
      expect(entityOf(report).linked).toBe(0);
      expect(await w.state(`SELECT * FROM ferry.pairs`)).toEqual([]);
    },
  },
  {
    name: 'import (createInSource) checks the connected system’s conditions only',
    options: {
      actions: ['createInSource'],
      sourceConditions: [{ field: 'status', values: ['Member'] }],
      targetConditions: [{ field: 'category', values: ['150: Members'] }],
    },
    accounts: accountRows(person('Eve', 'E', '150: Members', null), person('Fay', 'F', '200: Donors', null)),
    check: async (w, report) => {
      expect(await w.church(`SELECT first_name, status FROM people`)).toEqual([{ first_name: 'Eve', status: '150: Members' }]);
      expect(entityOf(report).twoWay).toMatchObject({ createdInSource: 1, unpaired: 1 });
    },
  },
  {
    name: 'import never duplicates: a matching church record that fails the church conditions still blocks the import',
    options: {
      actions: ['createInSource'],
      sourceConditions: [{ field: 'status', values: ['Member'] }],
      targetConditions: [{ field: 'category', values: ['150: Members'] }],
    },
    church: churchRows(person('Gil', 'G', 'Lapsed', null)),
    accounts: accountRows(person('Gil', 'G', '150: Members', null)),
    check: async (w, report) => {
      expect(await names(w, 'church')).toEqual(['Gil']);
      expect(entityOf(report)).toMatchObject({ created: 0, linked: 0 });
    },
  },
  {
    name: 'export (createInTarget) checks the own system’s conditions, and links to an accounts record that fails the accounts conditions',
    options: {
      actions: ['link', 'createInTarget'],
      sourceConditions: [{ field: 'status', values: ['Member'] }],
      targetConditions: [{ field: 'category', values: ['150: Members'] }],
      conflictPolicy: 'SourceWins',
    },
    church: churchRows(person('Hal', 'H', 'Member', null), person('Ida', 'I', 'Member', null)),
    accounts: accountRows(person('Hal', 'H', 'Donor', null)),
    check: async (w, report) => {
      expect(await names(w, 'accounts')).toEqual(['Hal', 'Ida']);
      expect(entityOf(report)).toMatchObject({ created: 1, linked: 1 });
    },
  },
  {
    name: 'update properties (newer wins): a change in accounts goes to church',
    options: { actions: ['createInTarget', 'updateNewerWins'] },
    church: churchRows(person('Ivy', 'I', 'Member', null)),
    change: (w) => w.accounts(`UPDATE persons SET mail = 'ivy@new.org'`),
    check: async (w, report) => {
      expect(await w.church(`SELECT email FROM people`)).toEqual([{ email: 'ivy@new.org' }]);
      expect(entityOf(report).twoWay).toMatchObject({ updatedSource: 1, updatedTarget: 0 });
    },
  },
  {
    name: 'update properties (newer wins): a change in church goes to accounts',
    options: { actions: ['createInTarget', 'updateNewerWins'] },
    church: churchRows(person('Ivy', 'I', 'Member', null)),
    change: (w) => w.church(`UPDATE people SET email = 'ivy@new.org'`),
    check: async (w, report) => {
      expect(await w.accounts(`SELECT mail FROM persons`)).toEqual([{ mail: 'ivy@new.org' }]);
      expect(entityOf(report).twoWay).toMatchObject({ updatedSource: 0, updatedTarget: 1 });
    },
  },
  {
    name: 'update properties: a pair meeting the conditions of one side only is still updated',
    options: {
      actions: ['createInTarget', 'updateNewerWins'],
      sourceConditions: [{ field: 'status', values: ['Member'] }],
      targetConditions: [{ field: 'category', values: ['nobody'] }],
    },
    church: churchRows(person('Ivy', 'I', 'Member', null)),
    change: (w) => w.church(`UPDATE people SET email = 'ivy@new.org'`),
    check: async (w) => expect(await w.accounts(`SELECT mail FROM persons`)).toEqual([{ mail: 'ivy@new.org' }]),
  },
  {
    name: 'update properties: a pair meeting neither side’s conditions is left alone',
    options: {
      actions: ['createInTarget', 'updateNewerWins'],
      sourceConditions: [{ field: 'status', values: ['Member'] }],
      targetConditions: [{ field: 'category', values: ['Member'] }],
    },
    church: churchRows(person('Ivy', 'I', 'Member', null)),
    change: async (w) => {
      await w.church(`UPDATE people SET status = 'Lapsed'`);
      await w.accounts(`UPDATE persons SET category = 'Lapsed'`);
      await w.run(twoWaySpec([peopleEntity({ actions: ['createInTarget', 'updateNewerWins'], sourceConditions: [{ field: 'status', values: ['Member'] }], targetConditions: [{ field: 'category', values: ['Member'] }] })]));
      await w.church(`UPDATE people SET email = 'ivy@new.org'`);
    },
    check: async (w, report) => {
      expect(await w.accounts(`SELECT mail FROM persons`)).toEqual([{ mail: 'ivy@x.org' }]);
      expect(entityOf(report).skipped).toBe(1);
    },
  },
  {
    name: 'import properties (updateSource) takes accounts changes into church',
    options: { actions: ['createInTarget', 'updateSource'] },
    church: churchRows(person('Jo', 'J', 'Member', null)),
    change: (w) => w.accounts(`UPDATE persons SET mail = 'jo@new.org'`),
    check: async (w) => expect(await w.church(`SELECT email FROM people`)).toEqual([{ email: 'jo@new.org' }]),
  },
  {
    name: 'import properties (updateSource) never writes accounts',
    options: { actions: ['createInTarget', 'updateSource'] },
    church: churchRows(person('Jo', 'J', 'Member', null)),
    change: (w) => w.church(`UPDATE people SET email = 'jo@new.org'`),
    check: async (w, report) => {
      expect(await w.accounts(`SELECT mail FROM persons`)).toEqual([{ mail: 'jo@x.org' }]);
      expect(entityOf(report).skipped).toBe(1);
    },
  },
  {
    name: 'export properties (updateTarget) takes church changes into accounts',
    options: { actions: ['createInTarget', 'updateTarget'] },
    church: churchRows(person('Kai', 'K', 'Member', null)),
    change: (w) => w.church(`UPDATE people SET email = 'kai@new.org'`),
    check: async (w) => expect(await w.accounts(`SELECT mail FROM persons`)).toEqual([{ mail: 'kai@new.org' }]),
  },
  {
    name: 'export properties (updateTarget) never writes church',
    options: { actions: ['createInTarget', 'updateTarget'] },
    church: churchRows(person('Kai', 'K', 'Member', null)),
    change: (w) => w.accounts(`UPDATE persons SET mail = 'kai@new.org'`),
    check: async (w) => expect(await w.church(`SELECT email FROM people`)).toEqual([{ email: 'kai@x.org' }]),
  },
  {
    name: 'archive in own system (archiveInSource) when the accounts partner vanished',
    options: { actions: ['createInTarget', 'archiveInSource'] },
    church: churchRows(person('Lu', 'L', 'Member', null)),
    change: (w) => w.accounts(`DELETE FROM persons`),
    check: async (w, report) => {
      expect(await w.church(`SELECT first_name, archived FROM people`)).toEqual([{ first_name: 'Lu', archived: true }]);
      expect(entityOf(report).categories).toMatchObject({ inactive: 1 });
    },
  },
  {
    name: 'archive in own system only checks the own record’s conditions (Lu no longer meets them: kept, pair shown as deleted)',
    options: { actions: ['createInTarget', 'archiveInSource'], sourceConditions: [{ field: 'status', values: ['Member'] }] },
    church: churchRows(person('Lu', 'L', 'Member', null)),
    change: async (w) => {
      await w.accounts(`DELETE FROM persons`);
      await w.church(`UPDATE people SET status = 'Lapsed'`);
    },
    check: async (w, report) => {
      expect(await w.church(`SELECT archived FROM people`)).toEqual([{ archived: false }]);
      expect(entityOf(report).categories).toMatchObject({ deleted: 1 });
    },
  },
  {
    name: 'delete in own system (deleteInSource) when the accounts partner vanished; the connected system’s conditions do not matter',
    options: { actions: ['createInTarget', 'deleteInSource'], targetConditions: [{ field: 'category', values: ['nobody'] }] },
    church: churchRows(person('Mo', 'M', 'Member', null), person('Ned', 'N', 'Member', null)),
    change: (w) => w.accounts(`DELETE FROM persons WHERE name_first = 'Mo'`),
    check: async (w, report) => {
      expect(await names(w, 'church')).toEqual(['Ned']);
      expect(entityOf(report).twoWay).toMatchObject({ deletedSource: 1 });
      expect(await w.state(`SELECT count(*)::int AS n FROM ferry.pairs`)).toEqual([{ n: 1 }]);
    },
  },
  {
    name: 'archive in the connected system (archiveInTarget) when the church partner vanished',
    options: { actions: ['createInTarget', 'archiveInTarget'] },
    church: churchRows(person('Oz', 'O', 'Member', null)),
    change: (w) => w.church(`DELETE FROM people`),
    check: async (w) => expect(await w.accounts(`SELECT name_first, inactive FROM persons`)).toEqual([{ name_first: 'Oz', inactive: true }]),
  },
  {
    name: 'delete in the connected system (deleteInTarget) checks the accounts record’s conditions only',
    options: {
      actions: ['createInTarget', 'deleteInTarget'],
      sourceConditions: [{ field: 'status', values: ['Member'] }],
      targetConditions: [{ field: 'category', values: ['Member'] }],
    },
    church: churchRows(person('Pia', 'P', 'Member', null), person('Quin', 'Q', 'Member', null)),
    change: async (w) => {
      await w.accounts(`UPDATE persons SET category = 'Donor' WHERE name_first = 'Quin'`);
      await w.church(`DELETE FROM people`);
    },
    check: async (w, report) => {
      expect(await names(w, 'accounts')).toEqual(['Quin']);
      expect(entityOf(report).categories).toMatchObject({ deleted: 1 });
    },
  },
  {
    name: 'a record gone from both systems loses its pair',
    options: { actions: ['createInTarget'] },
    church: churchRows(person('Ray', 'R', 'Member', null)),
    change: async (w) => {
      await w.church(`DELETE FROM people`);
      await w.accounts(`DELETE FROM persons`);
    },
    check: async (w) => expect(await w.state(`SELECT * FROM ferry.pairs`)).toEqual([]),
  },
];

describe('two-way actions and conditions (seed 002)', () => {
  it.each(cases)('$name', async (c) => {
    const w = await twoWayWorld();
    if (c.church) await w.church(c.church);
    if (c.accounts) await w.accounts(c.accounts);
    const spec = twoWaySpec([peopleEntity(c.options)]);
    let report = await w.run(spec);
    expect(report.status).toBe('Succeeded');
    if (c.change) {
      await c.change(w);
      report = await w.run(spec);
    }
    expect(report.rejectedSamples).toEqual([]);
    await c.check(w, report);
  });
});
