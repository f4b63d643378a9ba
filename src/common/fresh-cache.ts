/**
 * One computed value, shared and reused:
 * - **single flight**: callers that miss while a computation is running wait for that one instead of
 *   starting their own;
 * - **generations**: `invalidate()` (called after a commit that changes the inputs) makes every later
 *   `get()` wait for a computation started after it, so a writer that invalidates and then reads
 *   always sees its own write; a computation that started before an invalidation is never stored;
 * - **time to live**: a value is reused for at most `ttlMs` (0: never reused, only shared while in
 *   flight), which bounds how stale it can be against writers this instance does not hear of (other
 *   instances, or time moving a window). Time going backwards (a test clock) counts as expired.
 */
export class FreshCache<T> {
  private generation = 0;
  /** Only ever a value of the current generation: invalidate() drops it, and older computations do not store. */
  private value: { v: T; at: number } | null = null;
  private inflight: { generation: number; promise: Promise<T> } | null = null;

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  /** The inputs changed: later reads wait for a new computation. */
  invalidate(): void {
    this.generation += 1;
    this.value = null;
  }

  /** The stored value when it is still fresh, else undefined (never computes). */
  peek(): T | undefined {
    const v = this.value;
    if (v === null) return undefined;
    const age = this.now() - v.at;
    return age >= 0 && age < this.ttlMs ? v.v : undefined;
  }

  /** The fresh value, the running computation of this generation, or a new computation. */
  get(compute: () => Promise<T>): Promise<T> {
    const fresh = this.peek();
    if (fresh !== undefined) return Promise.resolve(fresh);
    const running = this.inflight;
    if (running !== null && running.generation === this.generation) return running.promise;
    const generation = this.generation;
    const startedAt = this.now();
    const promise = compute().then(
      (v) => {
        if (this.generation === generation) this.value = { v, at: startedAt };
        this.settle(promise);
        return v;
      },
      (err: unknown) => {
        this.settle(promise);
        throw err;
      },
    );
    this.inflight = { generation, promise };
    return promise;
  }

  private settle(promise: Promise<T>): void {
    if (this.inflight?.promise === promise) this.inflight = null;
  }
}
