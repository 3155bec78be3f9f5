import { describe, expect, it } from 'vitest';
import { quantityBytes } from '../../../src/util/quantity.js';
import { keptCopiesBytes } from '../../../src/util/scratch.js';

describe('the decoded files a run keeps on its scratch space', () => {
  it('take half of the size the Job tells (the rest for the file being decoded and a key census)', () => {
    expect(keptCopiesBytes('10Gi')).toBe(5 * 1024 ** 3);
    expect(keptCopiesBytes('1G')).toBe(5e8);
    expect(keptCopiesBytes('1.5Gi')).toBe(0.75 * 1024 ** 3);
  });

  it('take 2 GiB when no size is told (a local run) or it cannot be read', () => {
    expect(keptCopiesBytes(undefined)).toBe(2 * 1024 ** 3);
    expect(keptCopiesBytes('lots')).toBe(2 * 1024 ** 3);
    expect(keptCopiesBytes('20GB')).toBe(2 * 1024 ** 3);
  });

  it('read quantities in decimal and binary units', () => {
    expect(quantityBytes('512Mi')).toBe(512 * 1024 ** 2);
    expect(quantityBytes('2k')).toBe(2000);
    expect(quantityBytes('7')).toBe(7);
    expect(quantityBytes('500m')).toBeUndefined();
  });
});
