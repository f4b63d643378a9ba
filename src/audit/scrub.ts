const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|hash|api[-_]?key|jwt/i;

/**
 * The one function that removes secrets from anything stored in an audit row or a log line:
 * values under secret-looking keys become "[REDACTED]", bearer strings are masked, depth is bounded.
 */
export function scrubSecrets(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[TRUNCATED]';
  if (typeof value === 'string') return value.replace(/Bearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer [REDACTED]');
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => scrubSecrets(v, depth + 1));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      // ids (a token's jti, a session id) name secrets without being one
      out[k] = SECRET_KEY.test(k) && !/_id$/i.test(k) ? '[REDACTED]' : scrubSecrets(v, depth + 1);
    }
    return out;
  }
  return value;
}
