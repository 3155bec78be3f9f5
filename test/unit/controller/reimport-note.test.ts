import { describe, expect, it } from 'vitest';
import { reimportSentence } from '../../../src/controller/reimport-note.js';

describe("a SyncJob's re-import in words", () => {
  it('names the files, a few of them when there are many, and says when it was a dry run', () => {
    expect(reimportSentence({})).toBeUndefined();
    expect(reimportSentence({ reimport: ['a.csv'] })).toBe('re-imported on request: a.csv');
    const many = Array.from({ length: 100 }, (_, i) => `employees-${i}.csv.gz.pgp`);
    const sentence = reimportSentence({ reimport: many })!;
    expect(sentence).toBe('re-imported on request: employees-0.csv.gz.pgp, employees-1.csv.gz.pgp, employees-2.csv.gz.pgp, employees-3.csv.gz.pgp, employees-4.csv.gz.pgp and 95 more');
    expect(reimportSentence({ reimport: ['a.csv', 'b.csv'], dryRun: true })).toBe('dry run of a re-import of a.csv, b.csv (nothing recorded)');
  });
});
