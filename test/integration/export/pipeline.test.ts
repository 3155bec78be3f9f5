import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClient } from '../../helpers/databases.js';
import { exportFlow, exportOnce, exportSource, receivedFiles, startDestinations, type Destinations } from './fixtures.js';

const ROWS = `INSERT INTO members VALUES
  (1, 'Ann', 'ann@example.org', 10, '2026-01-01 10:00:00+00'),
  (2, 'Bob "the builder"', 'bob@example.org', NULL, '2026-01-01 10:00:00+00'),
  (3, 'Cy, Jr.', '', 7, '2026-01-01 11:00:00+00'),
  (4, E'Di\\nSecond line', 'di@example.org', 0, '2026-01-01 12:00:00+00')`;

const EXPECTED_CSV =
  'member_id,name,email,points\r\n' +
  '1,Ann,ann@example.org,10\r\n' +
  '2,"Bob ""the builder""",bob@example.org,\r\n' +
  '3,"Cy, Jr.","",7\r\n' +
  '4,"Di\nSecond line",di@example.org,0\r\n';

describe('export pipeline to SFTP and FTPS', () => {
  let servers: Destinations;
  let urls: { sourceUrl: string; stateUrl: string };

  beforeAll(async () => {
    servers = await startDestinations();
    urls = await exportSource();
    await withClient(urls.sourceUrl, (c) => c.query(ROWS));
  });
  afterAll(async () => {
    await servers?.close();
  });

  it('writes RFC 4180 CSV and delivers it to both destinations under its final name', async () => {
    const spec = exportFlow({ targets: [{ name: 'sftp' }, { name: 'ftps' }] });
    const { report, failure } = await exportOnce(urls, spec, { targets: servers.targets, secrets: servers.secrets }, { flowId: 'default/csv' });
    expect(failure).toBeUndefined();
    expect(report.export.result).toBe('AllTransferred');
    expect(report.export.transfers.map((t) => [t.target, t.status])).toEqual([
      ['sftp', 'transferred'],
      ['ftps', 'transferred'],
    ]);
    for (const root of [servers.sftpRoot, servers.ftpsRoot]) {
      const files = receivedFiles(root);
      expect([...files.keys()]).toContain('members_001.csv');
      expect(files.get('members_001.csv')!.toString('utf8')).toBe(EXPECTED_CSV);
    }
  });

  it('gzips, uses a custom delimiter and quote, and can leave the header out', async () => {
    const spec = exportFlow({ compression: 'Gzip', csv: { header: false, delimiter: ';', quote: "'" }, fileNameTemplate: 'semi_{entity}' });
    const { report } = await exportOnce(urls, spec, { targets: servers.targets, secrets: servers.secrets }, { flowId: 'default/semi' });
    expect(report.export.result).toBe('AllTransferred');
    const content = gunzipSync(receivedFiles(servers.sftpRoot).get('semi_members.csv.gz')!).toString('utf8');
    expect(content.split('\r\n')[1]).toBe(`2;Bob "the builder";bob@example.org;`);
    expect(content.split('\r\n')[2]).toBe(`3;Cy, Jr.;'';7`);
  });

  it('writes JSON Lines with JSON types, split into files of at most 3 rows', async () => {
    const spec = exportFlow({ format: 'JsonLines', split: { maxRows: 3 }, fileNameTemplate: 'json_{entity}_{seq}' });
    const { report } = await exportOnce(urls, spec, { targets: servers.targets, secrets: servers.secrets }, { flowId: 'default/json' });
    expect(report.export.files.map((f) => [f.name, f.rows])).toEqual([
      ['json_members_001.jsonl', 3],
      ['json_members_002.jsonl', 1],
    ]);
    const files = receivedFiles(servers.sftpRoot);
    const lines = [files.get('json_members_001.jsonl')!, files.get('json_members_002.jsonl')!].flatMap((b) => b.toString('utf8').trim().split('\n'));
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { member_id: 1, name: 'Ann', email: 'ann@example.org', points: 10 },
      { member_id: 2, name: 'Bob "the builder"', email: 'bob@example.org', points: null },
      { member_id: 3, name: 'Cy, Jr.', email: '', points: 7 },
      { member_id: 4, name: 'Di\nSecond line', email: 'di@example.org', points: 0 },
    ]);
  });
});
