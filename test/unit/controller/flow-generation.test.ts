import { describe, expect, it } from 'vitest';
import { generationNote, generationSentence } from '../../../src/controller/flow-generation.js';

describe('generationNote', () => {
  it('says nothing when the admitted spec ran and the flow is unchanged, or nothing was admitted', () => {
    expect(generationNote({ admitted: 3, ran: 3 }, 3)).toBe('');
    expect(generationNote(undefined, 4)).toBe('');
  });
  it('names both generations when the run ran another spec than the admitted one', () => {
    expect(generationNote({ admitted: 3, ran: 4 }, 4)).toBe('; ran SyncFlow generation 4, not generation 3 it was admitted with');
  });
  it('says the admitted spec ran when the flow was edited since', () => {
    expect(generationNote({ admitted: 3, ran: 3 }, 5)).toBe('; ran the admitted SyncFlow spec (generation 3); the flow is now at generation 5');
  });
});

describe('generationSentence (the run report note)', () => {
  it('is the same wording without the separator, and undefined when there is nothing to say', () => {
    expect(generationSentence({ admitted: 3, ran: 3 }, 5)).toBe('ran the admitted SyncFlow spec (generation 3); the flow is now at generation 5');
    expect(generationSentence({ admitted: 3, ran: 4 }, 4)).toBe('ran SyncFlow generation 4, not generation 3 it was admitted with');
    expect(generationSentence({ admitted: 3, ran: 3 }, 3)).toBeUndefined();
    expect(generationSentence(undefined, 3)).toBeUndefined();
  });
});
