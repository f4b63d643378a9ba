/**
 * Access tokens are checked on every request, and a client sends the same token for its whole
 * life (15 minutes by default): jsonwebtoken decodes it, parses its JSON twice and recomputes its
 * HMAC each time, about a tenth of the CPU of `GET /whoami` (profile in docs/BENCHMARKS.md). This
 * keeps the claims of tokens that verified, by their exact text, until they expire, so a repeat
 * only costs a map lookup. Nothing else is skipped: the session and the user are still read and
 * checked on every request (revocation, suspension), an expired or never-seen token goes through
 * jsonwebtoken as before (same errors), and only tokens that verified are kept, so junk tokens
 * cannot fill it. Bounded: the least recently used entry goes first.
 */
export type JwtVerifier = (
  token: string,
  key: unknown,
  options: unknown,
  callback: (err: Error | null, payload?: unknown) => void,
) => void;

interface Entry {
  key: unknown;
  options: unknown;
  payload: unknown;
  /** Epoch ms after which the entry no longer counts (the token's exp). */
  until: number;
}

export class VerifiedTokenCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly max: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * `inner` with this cache in front: a hit needs the same key and options object the token
   * verified with (one strategy passes the same ones every time) and an unexpired exp.
   */
  wrap(inner: JwtVerifier): JwtVerifier {
    return (token, key, options, callback) => {
      const hit = this.entries.get(token);
      if (hit && hit.key === key && hit.options === options && hit.until > this.now()) {
        // most recently used last, so the Map's first entry is the one to evict
        this.entries.delete(token);
        this.entries.set(token, hit);
        return callback(null, hit.payload);
      }
      if (hit) this.entries.delete(token);
      return inner(token, key, options, (err, payload) => {
        if (!err) this.remember(token, key, options, payload);
        callback(err, payload);
      });
    };
  }

  private remember(token: string, key: unknown, options: unknown, payload: unknown): void {
    const exp = (payload as { exp?: unknown } | null)?.exp;
    // only tokens that expire: a token without exp would otherwise stay valid here for good
    if (typeof exp !== 'number' || !Number.isFinite(exp)) return;
    this.entries.set(token, { key, options, payload: Object.freeze(payload), until: exp * 1000 });
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
  }
}
