import { PoolConnection } from 'mysql2';
import { cachePoolConnectionPromiseWrapper } from './mysql2-promise-wrapper';

describe('cachePoolConnectionPromiseWrapper', () => {
  // A pool connection without a socket: the wrapper only keeps a reference to it.
  const fake = () => Object.create(PoolConnection.prototype) as PoolConnection;

  it('gives one promise wrapper per connection, bound to that connection', () => {
    cachePoolConnectionPromiseWrapper();
    cachePoolConnectionPromiseWrapper(); // idempotent
    const a = fake();
    const b = fake();
    const wa = a.promise();
    expect(a.promise()).toBe(wa);
    expect(b.promise()).not.toBe(wa);
    expect((wa as unknown as { connection: unknown }).connection).toBe(a);
    expect((b.promise() as unknown as { connection: unknown }).connection).toBe(b);
  });

  it('still makes a new wrapper for a caller that brings its own Promise class', () => {
    cachePoolConnectionPromiseWrapper();
    const a = fake();
    const own = a.promise(Promise);
    expect(own).not.toBe(a.promise());
    expect((own as unknown as { Promise: unknown }).Promise).toBe(Promise);
  });
});
