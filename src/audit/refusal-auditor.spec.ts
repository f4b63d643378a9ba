import {
  ACCOUNT_REFUSAL_ROWS_PER_MINUTE,
  ANONYMOUS_REFUSAL_ROWS_PER_MINUTE,
  RefusalBudget,
} from './refusal-auditor';

describe('RefusalBudget', () => {
  it.each([ANONYMOUS_REFUSAL_ROWS_PER_MINUTE, ACCOUNT_REFUSAL_ROWS_PER_MINUTE])(
    'writes at most %p rows per key and minute, then reports how many rows were left out',
    (perMinute) => {
      const sut = new RefusalBudget(perMinute);
      const t0 = 1_000_000;
      for (let i = 0; i < perMinute; i++) expect(sut.take('a', t0 + i)).toEqual({ write: true, skipped: 0 });
      expect(sut.take('a', t0 + 100).write).toBe(false);
      expect(sut.take('a', t0 + 200).write).toBe(false);
      expect(sut.take('b', t0 + 200)).toEqual({ write: true, skipped: 0 }); // other keys unaffected
      expect(sut.take('a', t0 + 60_000)).toEqual({ write: true, skipped: 2 }); // next window
      expect(sut.take('a', t0 + 60_001)).toEqual({ write: true, skipped: 0 });
    },
  );
});
