import { MAX_METADATA_BYTES, metadataJsonOf } from './audit.service';

describe('metadataJsonOf', () => {
  it('is null for no metadata and scrubbed JSON otherwise', () => {
    expect(metadataJsonOf({})).toBeNull();
    expect(JSON.parse(metadataJsonOf({ password: 'p', amount: 5n, code: 'X' }) ?? '')).toEqual({
      password: '[REDACTED]',
      amount: '5',
      code: 'X',
    });
  });

  it('replaces an oversized payload by a small, valid note instead of cutting it', () => {
    const sut = metadataJsonOf({ code: 'VALIDATION_FAILED', blob: 'é'.repeat(MAX_METADATA_BYTES) });
    expect(sut).not.toBeNull();
    expect(JSON.parse(sut ?? '')).toEqual({
      truncated: true,
      bytes: expect.any(Number) as number,
      keys: ['code', 'blob'],
      code: 'VALIDATION_FAILED',
    });
  });
});
