import { redactUrl } from './redact-url';

describe('redactUrl', () => {
  it('redacts the stream ticket and other credentials, keeps everything else', () => {
    expect(redactUrl('/stream?ticket=abc.def-123')).toBe('/stream?ticket=[REDACTED]');
    expect(redactUrl('/stream?a=1&ticket=abc&b=2')).toBe('/stream?a=1&ticket=[REDACTED]&b=2');
    expect(redactUrl('/x?TICKET=abc&Token=t&access_token=z')).toBe(
      '/x?TICKET=[REDACTED]&Token=[REDACTED]&access_token=[REDACTED]',
    );
    expect(redactUrl('/x?%74icket=abc')).toBe('/x?%74icket=[REDACTED]');
    expect(redactUrl('/analytics?direction=usd_to_lbp&from=2026-12-01')).toBe(
      '/analytics?direction=usd_to_lbp&from=2026-12-01',
    );
  });

  it('leaves paths without a query, flags without a value and malformed names alone', () => {
    expect(redactUrl('/health')).toBe('/health');
    expect(redactUrl('/x?ticket')).toBe('/x?ticket');
    expect(redactUrl('/x?%zz=1')).toBe('/x?%zz=1');
    expect(redactUrl(undefined)).toBe('');
  });
});
