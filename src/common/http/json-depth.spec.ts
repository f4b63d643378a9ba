import { jsonDepthExceeds } from './json-depth';

describe('jsonDepthExceeds', () => {
  it('measures nesting of arrays and objects', () => {
    expect(jsonDepthExceeds('{"a":[1,{"b":2}]}', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a":[1,{"b":[2]}]}', 3)).toBe(true);
    expect(jsonDepthExceeds('['.repeat(5000) + ']'.repeat(5000))).toBe(true);
    expect(jsonDepthExceeds('[]'.repeat(5000))).toBe(false);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonDepthExceeds(JSON.stringify({ a: '[[[[[[[[', b: 'x"[[[[[[{{{{' }), 2)).toBe(false);
  });
});
