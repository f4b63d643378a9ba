import { knownTotal } from './paging';

describe('knownTotal', () => {
  const page = (offset: number, limit = 50) => ({ offset, limit });

  it('is the offset plus the rows when the page ends the list', () => {
    expect(knownTotal(7, page(0))).toBe(7);
    expect(knownTotal(3, page(100))).toBe(103);
    expect(knownTotal(0, page(0))).toBe(0);
  });

  it('is unknown (a COUNT is needed) for a full page, or an empty page past the start', () => {
    expect(knownTotal(50, page(0))).toBeNull(); // more may follow
    expect(knownTotal(50, page(50))).toBeNull();
    expect(knownTotal(0, page(50))).toBeNull(); // past the end: how far is unknown
    expect(knownTotal(1, page(0, 1))).toBeNull();
  });
});
