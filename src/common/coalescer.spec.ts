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

describe('Coalescer, edges', () => {
  it('never runs the job twice at once, also for a caller arriving as a run settles', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    const late: Promise<number>[] = [];
    const c = new Coalescer(async () => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      const n = ++runs;
      await tick();
      active -= 1;
      return n;
    });
    const first = c.run();
    await tick();
    const queued = c.run(); // waits for the first
    // callers reacting to the first result, i.e. in the gap before the queued run starts
    void first.then(() => late.push(c.run()));
    expect(await first).toBe(1);
    expect(await queued).toBe(2);
    await Promise.all(late);
    expect(maxActive).toBe(1);
    expect(await late[0]).toBe(2);
  });

  it('a caller queued behind a failing run gets its own run, which succeeds', async () => {
    let calls = 0;
    const c = new Coalescer(async () => {
      calls += 1;
      await tick();
      if (calls === 1) throw new Error('first fails');
      return calls;
    });
    const first = c.run();
    await tick();
    const second = c.run();
    await expect(first).rejects.toThrow('first fails');
    expect(await second).toBe(2);
  });
});
