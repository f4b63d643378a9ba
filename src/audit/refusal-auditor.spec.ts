import { ANONYMOUS_REFUSAL_ROWS_PER_MINUTE, AnonymousRefusalBudget } from './refusal-auditor';

describe('AnonymousRefusalBudget', () => {
  it('writes at most the budget per IP and minute, then reports how many rows were left out', () => {
    const sut = new AnonymousRefusalBudget();
    const t0 = 1_000_000;
    for (let i = 0; i < ANONYMOUS_REFUSAL_ROWS_PER_MINUTE; i++)
      expect(sut.take('1.2.3.4', t0 + i)).toEqual({ write: true, skipped: 0 });
    expect(sut.take('1.2.3.4', t0 + 100).write).toBe(false);
    expect(sut.take('1.2.3.4', t0 + 200).write).toBe(false);
    expect(sut.take('5.6.7.8', t0 + 200)).toEqual({ write: true, skipped: 0 }); // other clients unaffected
    expect(sut.take('1.2.3.4', t0 + 60_000)).toEqual({ write: true, skipped: 2 }); // next window
    expect(sut.take('1.2.3.4', t0 + 60_001)).toEqual({ write: true, skipped: 0 });
  });
});
