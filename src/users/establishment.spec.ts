import { establishment, type EstablishmentFacts, type EstablishmentPolicy } from './establishment';

const H = 3_600_000;
const NOW = new Date('2026-12-07T12:00:00.000Z');
const ago = (hours: number): Date => new Date(NOW.getTime() - hours * H);
const PRODUCTION: EstablishmentPolicy = { minDepositUsd: 5_000n, minAgeHours: 24 };
const OPEN: EstablishmentPolicy = { minDepositUsd: 0n, minAgeHours: 0 };

const user = (patch: Partial<EstablishmentFacts> = {}): EstablishmentFacts => ({
  status: 'ACTIVE',
  trusted: null,
  trustedAt: null,
  fundedAt: null,
  createdAt: ago(1),
  ...patch,
});

describe('establishment', () => {
  it('a new account is not established at the production settings', () => {
    expect(establishment(user(), PRODUCTION, NOW)).toEqual({ established: false, establishedAt: null });
  });

  it('funded and old enough: from the later of the two moments', () => {
    const sut = user({ createdAt: ago(30), fundedAt: ago(2) });
    expect(establishment(sut, PRODUCTION, NOW)).toEqual({ established: true, establishedAt: ago(2) });
    const early = user({ createdAt: ago(30), fundedAt: ago(29) });
    expect(establishment(early, PRODUCTION, NOW)).toEqual({ established: true, establishedAt: ago(6) });
  });

  it('funded but too young, or old but unfunded: not established', () => {
    expect(establishment(user({ createdAt: ago(23), fundedAt: ago(23) }), PRODUCTION, NOW).established).toBe(
      false,
    );
    expect(establishment(user({ createdAt: ago(300) }), PRODUCTION, NOW).established).toBe(false);
  });

  it('no deposit needed: old enough is enough; no age needed: funded is enough', () => {
    expect(establishment(user({ createdAt: ago(25) }), { minDepositUsd: 0n, minAgeHours: 24 }, NOW)).toEqual({
      established: true,
      establishedAt: ago(1),
    });
    expect(
      establishment(user({ fundedAt: ago(0.5) }), { minDepositUsd: 5_000n, minAgeHours: 0 }, NOW),
    ).toEqual({
      established: true,
      establishedAt: ago(0.5),
    });
  });

  it('trusted: at once, from the trust (or earlier when its deposits made it so before)', () => {
    expect(establishment(user({ trusted: true, trustedAt: ago(0.1) }), PRODUCTION, NOW)).toEqual({
      established: true,
      establishedAt: ago(0.1),
    });
    const both = user({ trusted: true, trustedAt: ago(1), createdAt: ago(50), fundedAt: ago(40) });
    expect(establishment(both, PRODUCTION, NOW).establishedAt).toEqual(ago(26));
  });

  it('distrusted, suspended or banned: never, whatever it deposited, also in the open crowd', () => {
    const funded = { createdAt: ago(50), fundedAt: ago(40) };
    expect(establishment(user({ ...funded, trusted: false }), PRODUCTION, NOW).established).toBe(false);
    expect(establishment(user({ ...funded, status: 'SUSPENDED' }), PRODUCTION, NOW).established).toBe(false);
    expect(establishment(user({ trusted: true, status: 'BANNED' }), PRODUCTION, NOW).established).toBe(false);
    expect(establishment(user({ trusted: false }), OPEN, NOW).established).toBe(false);
  });

  it('the open crowd (both 0): every active account, since its creation', () => {
    const sut = user({ createdAt: ago(0.01) });
    expect(establishment(sut, OPEN, NOW)).toEqual({ established: true, establishedAt: sut.createdAt });
  });
});
