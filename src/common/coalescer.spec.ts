import { Coalescer } from './coalescer';

const tick = () => new Promise((r) => setImmediate(r));

describe('Coalescer', () => {
  it('callers during a run share the one next run, which starts after the current one ends', async () => {
    const releases: (() => void)[] = [];
    const log: string[] = [];
    let runs = 0;
    const c = new Coalescer(async () => {
      const n = ++runs;
      log.push(`start ${n}`);
      await new Promise<void>((r) => releases.push(r));
      log.push(`end ${n}`);
      return n;
    });
    const first = c.run();
    await tick();
    const later = [c.run(), c.run(), c.run()];
    await tick();
    expect(runs).toBe(1); // the next run waits for the first
    releases[0]();
    expect(await first).toBe(1);
    await tick();
    expect(runs).toBe(2);
    releases[1]();
    expect(await Promise.all(later)).toEqual([2, 2, 2]);
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('a caller never gets a run that started before its call', async () => {
    let release!: () => void;
    let runs = 0;
    const c = new Coalescer(async () => {
      const n = ++runs;
      if (n === 1) await new Promise<void>((r) => (release = r));
      return n;
    });
    const first = c.run();
    await tick();
    const second = c.run(); // arrives while run 1 is going
    release();
    expect(await first).toBe(1);
    expect(await second).toBe(2);
  });

  it('a failed run rejects its callers and does not stop the next one', async () => {
    let fail = true;
    const c = new Coalescer(() => (fail ? Promise.reject(new Error('boom')) : Promise.resolve('ok')));
    await expect(c.run()).rejects.toThrow('boom');
    fail = false;
    expect(await c.run()).toBe('ok');
  });

  it('runs again for a caller after the previous run has settled', async () => {
    let runs = 0;
    const c = new Coalescer(() => Promise.resolve(++runs));
    expect(await c.run()).toBe(1);
    expect(await c.run()).toBe(2);
  });
});
