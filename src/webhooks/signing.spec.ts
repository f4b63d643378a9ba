import { newSecret, sign, signatureHeader, verify } from './signing';

describe('Standard Webhooks signing', () => {
  it('matches the Standard Webhooks example (svix)', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    expect(sign(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it('signs with every given secret; a receiver accepts any of them, and nothing altered', () => {
    const [a, b] = [newSecret(), newSecret()];
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const header = signatureHeader([a, b], 'msg_1', 1700000000, '{"x":1}');
    expect(header.split(' ')).toHaveLength(2);
    expect(verify(a, 'msg_1', 1700000000, '{"x":1}', header)).toBe(true);
    expect(verify(b, 'msg_1', 1700000000, '{"x":1}', header)).toBe(true);
    expect(verify(newSecret(), 'msg_1', 1700000000, '{"x":1}', header)).toBe(false);
    expect(verify(a, 'msg_1', 1700000001, '{"x":1}', header)).toBe(false);
    expect(verify(a, 'msg_1', 1700000000, '{"x":2}', header)).toBe(false);
  });
});
