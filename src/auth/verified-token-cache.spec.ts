import { type JwtVerifier, VerifiedTokenCache } from './verified-token-cache';

describe('VerifiedTokenCache', () => {
  let now = 1_000_000;
  const clock = () => now;
  const KEY = { k: 1 };
  const OPTS = { algorithms: ['HS256'] };

  /** A verifier that accepts tokens named "ok-<exp seconds>" and counts its calls. */
  function fakeVerifier(): { fn: JwtVerifier; calls: string[] } {
    const calls: string[] = [];
    const fn: JwtVerifier = (token, _key, _opts, cb) => {
      calls.push(token);
      const m = /^ok-(\d+)$/.exec(token);
      if (!m) return cb(new Error('invalid signature'));
      if (Number(m[1]) * 1000 <= now) return cb(new Error('jwt expired'));
      return cb(null, { sub: 7, exp: Number(m[1]) });
    };
    return { fn, calls };
  }
  const run = (v: JwtVerifier, token: string, key: unknown = KEY, opts: unknown = OPTS) => {
    let out: { err: Error | null; payload?: unknown } | undefined;
    v(token, key, opts, (err, payload) => (out = { err, payload }));
    return out!;
  };

  beforeEach(() => (now = 1_000_000));

  it('verifies a token once, then answers repeats from memory with the same claims', () => {
    const inner = fakeVerifier();
    const v = new VerifiedTokenCache(10, clock).wrap(inner.fn);
    const first = run(v, 'ok-2000');
    const second = run(v, 'ok-2000');
    expect(first.err).toBeNull();
    expect(second).toEqual(first);
    expect(inner.calls).toEqual(['ok-2000']);
    expect(Object.isFrozen(second.payload)).toBe(true);
  });

  it('never keeps a token that failed, so it fails again through the verifier', () => {
    const inner = fakeVerifier();
    const cache = new VerifiedTokenCache(10, clock);
    const v = cache.wrap(inner.fn);
    expect(run(v, 'forged').err?.message).toBe('invalid signature');
    expect(run(v, 'forged').err?.message).toBe('invalid signature');
    expect(inner.calls).toEqual(['forged', 'forged']);
    expect(cache.size).toBe(0);
  });

  it('sends a kept token back to the verifier once it expires (same error as never kept)', () => {
    const inner = fakeVerifier();
    const cache = new VerifiedTokenCache(10, clock);
    const v = cache.wrap(inner.fn);
    expect(run(v, 'ok-1500').err).toBeNull();
    now = 1_500_000; // exactly exp
    expect(run(v, 'ok-1500').err?.message).toBe('jwt expired');
    expect(inner.calls).toEqual(['ok-1500', 'ok-1500']);
    expect(cache.size).toBe(0);
  });

  it('does not answer for another key or other options than the ones the token verified with', () => {
    const inner = fakeVerifier();
    const v = new VerifiedTokenCache(10, clock).wrap(inner.fn);
    run(v, 'ok-2000');
    run(v, 'ok-2000', { k: 2 });
    run(v, 'ok-2000', KEY, { algorithms: ['HS256'] });
    expect(inner.calls).toHaveLength(3);
  });

  it('keeps no token without a numeric exp', () => {
    const cache = new VerifiedTokenCache(10, clock);
    const v = cache.wrap((_t, _k, _o, cb) => cb(null, { sub: 1 }));
    run(v, 'forever');
    expect(cache.size).toBe(0);
  });

  it('holds at most max tokens, dropping the least recently used', () => {
    const inner = fakeVerifier();
    const cache = new VerifiedTokenCache(2, clock);
    const v = cache.wrap(inner.fn);
    run(v, 'ok-2001');
    run(v, 'ok-2002');
    run(v, 'ok-2001'); // 2001 is now the most recent
    run(v, 'ok-2003'); // evicts 2002
    expect(cache.size).toBe(2);
    inner.calls.length = 0;
    run(v, 'ok-2001');
    run(v, 'ok-2003');
    run(v, 'ok-2002');
    expect(inner.calls).toEqual(['ok-2002']);
  });
});
