/**
 * Coalesces calls of one async job: at most one run at a time, and every caller gets the result of
 * a run that **started after its call** (so it sees whatever the caller committed before calling).
 * Callers arriving while a run is going share the one next run instead of each starting their own:
 * under N concurrent callers the job runs about twice, not N times.
 */
export class Coalescer<T> {
  private running: Promise<T> | null = null;
  private next: Promise<T> | null = null;

  constructor(private readonly job: () => Promise<T>) {}

  run(): Promise<T> {
    // a queued run has not started yet, so it starts after this call: share it (also in the moment
    // between the previous run settling and the queued one starting, when `running` is already null)
    if (this.next !== null) return this.next;
    const running = this.running;
    if (running === null) return this.start();
    const next = running
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.next = null;
        return this.start();
      });
    this.next = next;
    return next;
  }

  private start(): Promise<T> {
    const p = Promise.resolve().then(this.job);
    this.running = p;
    const clear = () => {
      if (this.running === p) this.running = null;
    };
    p.then(clear, clear);
    return p;
  }
}
