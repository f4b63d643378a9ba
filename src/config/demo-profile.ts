/**
 * The demo profile (`npm run start:demo`): the seed's open crowd, where every active account is
 * established at once (its records move the reference), and money in every new wallet, so the
 * seed's dashboard works end to end on a fresh install. Never for production: a crowd of free
 * accounts would own the median there.
 */
export const DEMO_PROFILE: Readonly<Record<string, string>> = {
  RATE_CONTRIBUTOR_MIN_DEPOSIT_USD: '0',
  RATE_CONTRIBUTOR_MIN_AGE_HOURS: '0',
  STARTING_BALANCE_USD: '1000',
  STARTING_BALANCE_LBP: '100000000',
};
