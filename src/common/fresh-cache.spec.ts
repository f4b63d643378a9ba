import { FreshCache } from './fresh-cache';

/** A computation the test resolves by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('FreshCache', () => {
  let now = 1_000;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000;
  });

  it('reuses a value for ttl, then computes again', async () => {
    const cache = new FreshCache<number>(100, clock);
    let calls = 0;
    const compute = () => Promise.resolve(++calls);
    expect(await cache.get(compute)).toBe(1);
    now += 99;
    expect(await cache.get(compute)).toBe(1);
    expect(cache.peek()).toBe(1);
    now += 1;
    expect(cache.peek()).toBeUndefined();
    expect(await cache.get(compute)).toBe(2);
  });

  it('concurrent misses share one computation', async () => {
    const cache = new FreshCache<string>(100, clock);
    const d = deferred<string>();
    let calls = 0;
    const compute = () => {
      calls += 1;
      return d.promise;
    };
    const all = Promise.all([cache.get(compute), cache.get(compute), cache.get(compute)]);
    d.resolve('v');
    expect(await all).toEqual(['v', 'v', 'v']);
    expect(calls).toBe(1);
  });

  it('after invalidate(), readers wait for a computation started after it; an older one is not stored', async () => {
    const cache = new FreshCache<string>(10_000, clock);
    const old = deferred<string>();
    const fresh = deferred<string>();
    const first = cache.get(() => old.promise);
    cache.invalidate();
    let calls = 0;
    const second = cache.get(() => {
      calls += 1;
      return fresh.promise;
    });
    old.resolve('before the write');
    expect(await first).toBe('before the write');
    expect(cache.peek()).toBeUndefined(); // the old computation is not stored
    // a reader after the old computation settled still waits for the new one, not a third computation
    const third = cache.get(() => {
      calls += 1;
      return Promise.resolve('a third computation');
    });
    fresh.resolve('after the write');
    expect(await second).toBe('after the write');
    expect(await third).toBe('after the write');
    expect(calls).toBe(1);
    expect(cache.peek()).toBe('after the write');
  });

  it('a failed computation is not stored and the next caller computes again', async () => {
    const cache = new FreshCache<number>(100, clock);
    await expect(cache.get(() => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await cache.get(() => Promise.resolve(7))).toBe(7);
  });

  it('ttl 0 never reuses a settled value; time going backwards counts as expired', async () => {
    const zero = new FreshCache<number>(0, clock);
    let calls = 0;
    await zero.get(() => Promise.resolve(++calls));
    await zero.get(() => Promise.resolve(++calls));
    expect(calls).toBe(2);
    const cache = new FreshCache<number>(100, clock);
    await cache.get(() => Promise.resolve(1));
    now -= 1;
    expect(cache.peek()).toBeUndefined();
  });
});
