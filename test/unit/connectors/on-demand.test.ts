import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadManifests } from '../../../src/api/index.js';
import type { SyncFlowSpec } from '../../../src/api/syncflow.js';
import { connectorFor } from '../../../src/connectors/index.js';
import { filesConnector } from '../../../src/connectors/files/index.js';
import { httpConnector } from '../../../src/connectors/http/index.js';
import { mysqlConnector } from '../../../src/connectors/mysql/index.js';
import type { Connector } from '../../../src/engine/connector.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'examples');
const flowSpec = (example: string): SyncFlowSpec => loadManifests([join(EXAMPLES, example, 'syncflow.yaml')]).flows[0]!.spec;

/** What the engine sees of a connector before it opens it: names, identity, and which of the interface's methods it has. */
const shape = (c: Connector) => ({
  kind: c.kind,
  what: c.what,
  identity: c.identity,
  hasIdentity: 'identity' in c,
  methods: (['open', 'changeFeed', 'finishRun'] as const).filter((m) => typeof c[m] === 'function'),
});

describe('connectors loaded on demand (connectorFor)', () => {
  it('a files source looks as the files connector itself does, before its module is loaded', () => {
    const spec = flowSpec('payroll-import');
    const context = { targets: {}, secrets: {}, flowId: 'default/payroll', stateUrl: 'postgres://state' };
    expect(shape(connectorFor(spec, 'source', '', context)!)).toEqual(shape(filesConnector(spec, context)));
  });

  it('an http side looks as the http connector itself does', () => {
    const spec = flowSpec('website-wordpress');
    const side = spec.source.http ? 'source' : 'target';
    expect(shape(connectorFor(spec, side, '{}')!)).toEqual(shape(httpConnector(spec, side, '{}', `the ${side} API`)));
  });

  it('a MariaDB side looks as the mysql connector itself does', () => {
    const spec = flowSpec('association-mariadb');
    const side = spec.source.mysql ? 'source' : 'target';
    const url = 'mysql://ferry:pw@db.example.org/crm';
    expect(shape(connectorFor(spec, side, url)!)).toEqual(shape(mysqlConnector(url, `the ${side} database`)));
  });
});
