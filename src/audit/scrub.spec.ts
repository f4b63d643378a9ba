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

  it('leaves plain values alone', () => {
    expect(scrubSecrets(5)).toBe(5);
    expect(scrubSecrets(null)).toBeNull();
    expect(scrubSecrets(['a'])).toEqual(['a']);
  });
});
