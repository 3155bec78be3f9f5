import { describe, expect, it } from 'vitest';
import { summariseTransfers } from '../../../src/export/summary.js';

describe('summariseTransfers', () => {
  it('gives one entry per target: Succeeded only when every file arrived, with the first failure otherwise', () => {
    const base = { fileId: 'f', attempts: 1 };
    expect(
      summariseTransfers([
        { ...base, target: 'sftp', file: 'a.csv', status: 'transferred', bytes: 10, remotePath: 'a.csv' },
        { ...base, target: 'sftp', file: 'b.csv', status: 'transferred', bytes: 5, remotePath: 'b.csv' },
        { ...base, target: 'ftps', file: 'a.csv', status: 'transferred', bytes: 10, remotePath: 'a.csv' },
        { ...base, target: 'ftps', file: 'b.csv', status: 'failed', reason: 'Unreachable', message: 'connection refused', attempts: 4 },
      ]),
    ).toEqual([
      { target: 'sftp', state: 'Succeeded', bytes: 15, message: '2 files transferred' },
      { target: 'ftps', state: 'Failed', bytes: 10, message: 'b.csv: Unreachable: connection refused' },
    ]);
  });
});
