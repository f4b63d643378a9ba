import { scrubSecrets } from './scrub';

describe('scrubSecrets', () => {
  it('redacts secret-looking keys at any depth and masks bearer strings', () => {
    const sut = scrubSecrets({
      user_name: 'alice',
      password: 'hunter22',
      nested: { new_password: 'x', refresh_token: 'y', list: [{ Authorization: 'Bearer abc.def' }] },
      note: 'sent Bearer abc.def.ghi',
    });
    expect(sut).toEqual({
      user_name: 'alice',
      password: '[REDACTED]',
      nested: {
        new_password: '[REDACTED]',
        refresh_token: '[REDACTED]',
        list: [{ Authorization: '[REDACTED]' }],
      },
      note: 'sent Bearer [REDACTED]',
    });
  });

  it('masks a bare JWT anywhere in a string and redacts credential and private-key fields', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.c2lnbmF0dXJl';
    expect(scrubSecrets({ note: `pasted ${jwt} here`, credentials: 'x', private_key: 'k' })).toEqual({
      note: 'pasted [REDACTED] here',
      credentials: '[REDACTED]',
      private_key: '[REDACTED]',
    });
  });

  it('keeps ids and idempotency keys', () => {
    const kept = { token_id: 'j1', session_id: 's1', idempotency_key: 'k-1' };
    expect(scrubSecrets(kept)).toEqual(kept);
  });

  it('leaves plain values alone', () => {
    expect(scrubSecrets(5)).toBe(5);
    expect(scrubSecrets(null)).toBeNull();
    expect(scrubSecrets(['a'])).toEqual(['a']);
  });
});
