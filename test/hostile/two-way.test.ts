import { describe, expect, inject, it } from 'vitest';
import { runSync } from '../../src/connectors/run.js';
import { createLogger } from '../../src/util/logger.js';
import { withClient } from '../helpers/databases.js';
import { CHURCH_SQL, entityOf, peopleEntity, twoWaySpec, twoWayWorld } from '../integration/engine/two-way-fixture.js';

describe('hostile data in a two-way flow: a cursor far in the future', () => {
  it('a source row dated 9999-12-31 does not freeze either side’s Incremental', async () => {
    const world = await twoWayWorld();
    const spec = twoWaySpec([peopleEntity({ actions: ['link', 'createInTarget', 'createInSource', 'updateTarget', 'updateSource'], match: 'email' })]);
    await world.church(`INSERT INTO people (first_name, last_name, email, status) VALUES ('Ann', 'A', 'ann@example.org', 'Member')`);
    await world.church(`INSERT INTO people (first_name, last_name, email, status, updated_at) VALUES ('Zed', 'Z', 'zed@example.org', 'Member', '9999-12-31')`);
    const full = await world.run(spec, 'Full');
    expect(full.status, full.error).toBe('Succeeded');
    expect(entityOf(full).notes.join('\n')).toMatch(/9999-12-31/);

    await world.run(spec, 'Incremental');
    await world.church(`INSERT INTO people (first_name, last_name, email, status) VALUES ('Bea', 'B', 'bea@example.org', 'Member')`);
    const incremental = await world.run(spec, 'Incremental');
    expect(incremental.status, incremental.error).toBe('Succeeded');
    expect(await world.accounts(`SELECT mail FROM persons WHERE mail = 'bea@example.org'`)).toHaveLength(1);
    expect(entityOf(incremental).notes.join('\n')).toMatch(/zed|9999-12-31/);
  });
});

describe('hostile data in a two-way flow: bytes that are not UTF-8', () => {
  it('a SQL_ASCII side holding \\xff\\xfe rejects that row (entity, key, column) and syncs the others, on every run', async () => {
    const world = await twoWayWorld();
    const base = new URL(inject('pgUrl'));
    const name = `hostile_tw_ascii_${process.pid}_${Date.now().toString(36)}`;
    await withClient(base.toString(), (c) => c.query(`CREATE DATABASE "${name}" ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`));
    base.pathname = `/${name}`;
    const church = base.toString();
    await withClient(church, (c) => c.query(CHURCH_SQL));
    await withClient(church, (c) => c.query(`INSERT INTO people (first_name, last_name, email, status) VALUES ('Ann', 'A', 'ann@example.org', 'Member'), ('Cy ' || E'\\xff\\xfe', 'C', 'cy@example.org', 'Member')`));
    const spec = twoWaySpec([peopleEntity({ actions: ['link', 'createInTarget', 'createInSource', 'updateTarget', 'updateSource'], match: 'email' })]);
    for (const mode of ['Full', 'Full', 'Incremental'] as const) {
      const report = await runSync({ flowId: 'test/two-way-ascii', spec, mode, sourceUrl: church, targetUrl: world.targetUrl, stateUrl: world.stateUrl, logger: createLogger({ level: 'silent', pretty: false }) });
      expect(report.status, report.error).toBe('Succeeded');
      if (mode === 'Full') {
        expect(report.rejectedSamples).toEqual([{ entity: 'people', key: expect.any(String), reason: expect.stringMatching(/first_name.*UTF-8/i) }]);
      }
    }
    expect((await world.accounts(`SELECT mail FROM persons ORDER BY mail`)).map((r) => r.mail)).toEqual(['ann@example.org']);
  });
});
