import { ContributorSet, type ContributorRow } from './contributors';

const at = new Date('2026-12-05T10:00:00Z');
const account = (userId: number, rate: number, volume = 100_00, samples = 1): ContributorRow => ({
  userId,
  rate: null,
  samples,
  volume,
  rateVolume: rate * volume,
  newestAt: at,
});
const trusted = (rate: number, samples = 1): ContributorRow => ({
  userId: null,
  rate,
  samples,
  volume: 0,
  rateVolume: 0,
  newestAt: at,
});

describe('ContributorSet', () => {
  it('counts each account once, whatever its number of samples or volume', () => {
    const sut = ContributorSet.of([
      account(1, 89_000),
      account(2, 89_500),
      account(3, 90_000),
      account(4, 200_000, 1e12, 10_000), // one account, any volume, any count: one vote
    ]);
    expect(sut.contributors).toBe(4);
    expect(sut.samples).toBe(10_003);
    expect(sut.centre()).toMatchObject({ median: 89_750, contributors: 4 });
  });

  it("an account's value is the volume-weighted average of its samples", () => {
    const sut = ContributorSet.of([account(1, 80_000, 100), account(1, 90_000, 300)]);
    expect(sut.centre().median).toBe(87_500);
  });

  it('each trusted sample is a contributor of its own', () => {
    const sut = ContributorSet.of([trusted(89_000, 3), trusted(95_000), account(7, 99_000)]);
    expect(sut.contributors).toBe(5);
    expect(sut.centre().median).toBe(89_000); // 89000 ×3, 95000, 99000
  });

  it('median and MAD of an even count are the means of the two middle values', () => {
    const sut = ContributorSet.of([account(1, 10), account(2, 20), account(3, 30), account(4, 50)]);
    // deviations from 25: 15, 5, 5, 25 → sorted 5, 5, 15, 25 → MAD 10
    expect(sut.centre()).toMatchObject({ median: 25, mad: 10 });
  });

  it("leaves the submitter's own account out of its baseline", () => {
    const sut = ContributorSet.of([
      account(1, 89_000),
      account(2, 89_400),
      account(3, 89_800),
      account(9, 150_000, 1e9, 500),
    ]);
    expect(sut.centre(9)).toMatchObject({ median: 89_400, contributors: 3, samples: 3 });
    expect(sut.centre(1)).toMatchObject({ median: 89_800, contributors: 3, samples: 502 });
    expect(sut.centre(42)).toMatchObject({ median: 89_600, contributors: 4 }); // not a contributor
  });

  it('adds samples one by one as rows of one', () => {
    const sut = new ContributorSet();
    sut.add({ id: 1, userId: 5, rate: 80_000, volume: 100, createdAt: at });
    sut.add({ id: 2, userId: 5, rate: 100_000, volume: 100, createdAt: new Date(at.getTime() + 1) });
    sut.add({ id: 3, userId: null, rate: 91_000, volume: 1, createdAt: at });
    expect(sut.contributors).toBe(2);
    expect(sut.samples).toBe(3);
    expect(sut.centre().median).toBe(90_500);
    expect(sut.newestAt?.getTime()).toBe(at.getTime() + 1);
  });

  it('kept up to date sample by sample, gives the centres of a set built from all the rows at once', () => {
    // a seeded walk: accounts whose averages move with each sample, trusted rates that repeat,
    // values that tie; after every step, compared with a set built afresh (sorted from scratch)
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const sut = new ContributorSet();
    const rows: ContributorRow[] = [];
    for (let step = 0; step < 400; step++) {
      const row =
        rand(3) === 0
          ? trusted(89_000 + 100 * rand(8), 1 + rand(2))
          : account(1 + rand(25), 88_000 + 250 * rand(16), 100_00 * (1 + rand(4)));
      rows.push(row);
      sut.addRow(row);
      const fresh = ContributorSet.of(rows);
      for (const exclude of [undefined, 1 + rand(25)]) {
        const got = sut.centre(exclude);
        const want = fresh.centre(exclude);
        expect({ step, exclude, got }).toEqual({ step, exclude, got: want });
      }
    }
  });

  it('is empty without contributors', () => {
    expect(new ContributorSet().centre()).toEqual({ median: null, mad: null, contributors: 0, samples: 0 });
  });
});
