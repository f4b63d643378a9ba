import { loadConfig } from '../../config/app-config';
import { proxyMatcher, socketAddress } from './connection-guard';

describe('connection guard helpers', () => {
  it('socketAddress: IPv4-mapped IPv6 as plain IPv4', () => {
    expect(socketAddress({ remoteAddress: '::ffff:127.0.0.9' })).toBe('127.0.0.9');
    expect(socketAddress({ remoteAddress: '::1' })).toBe('::1');
    expect(socketAddress({ remoteAddress: undefined })).toBe('unknown');
  });

  it('proxyMatcher: nobody without TRUST_PROXY, the next hop with a count, else the listed addresses and CIDRs', () => {
    expect(proxyMatcher(false)('127.0.0.1')).toBe(false);
    expect(proxyMatcher(0)('127.0.0.1')).toBe(false);
    expect(proxyMatcher(1)('203.0.113.9')).toBe(true);
    const sut = proxyMatcher(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32']);
    expect(sut('10.1.2.3')).toBe(true);
    expect(sut('192.0.2.7')).toBe(true);
    expect(sut('192.0.2.8')).toBe(false);
    expect(sut('2001:db8::1')).toBe(true);
    expect(sut('2001:db9::1')).toBe(false);
    expect(sut('unknown')).toBe(false);
  });

  it('the config refuses headers that may take longer than the whole request', () => {
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '40000', REQUEST_TIMEOUT_MS: '30000' })).toThrow(
      /HEADERS_TIMEOUT_MS/,
    );
    const c = loadConfig({});
    expect(c.connections).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      maxPerIp: 256,
      maxTotal: 10_000,
    });
  });
});
