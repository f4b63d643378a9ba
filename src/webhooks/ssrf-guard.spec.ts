import { isBlockedAddress } from './ssrf-guard';

describe('isBlockedAddress', () => {
  it.each([
    '127.0.0.1',
    '127.10.0.9',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '::ffff:10.1.2.3',
    'not an address',
  ])('refuses %s', (a) => expect(isBlockedAddress(a)).toBe(true));

  it.each(['93.184.216.34', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows %s',
    (a) => expect(isBlockedAddress(a)).toBe(false),
  );
});
