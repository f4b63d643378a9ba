const SECRET_KEY =
  /pass(word|phrase)?|secret|token|authorization|cookie|hash|api[-_]?key|private[-_]?key|credential|jwt/i;
const BEARER = /Bearer\s+[A-Za-z0-9._~+/=-]+/gi;
/** A compact JWT anywhere in a string (header and payload are base64url JSON, so they start with eyJ). */
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;

/**
 * The one function that removes secrets from what goes into an audit row (AuditService.record runs it
 * on every row's metadata, message and user agent): values under secret-looking keys become
 * "[REDACTED]", bearer strings and bare JWTs are masked, depth and list length are bounded.
 * Ids (`token_id`, `session_id`) and idempotency keys stay.
 */
export function scrubSecrets(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[TRUNCATED]';
  if (typeof value === 'string') return value.replace(BEARER, 'Bearer [REDACTED]').replace(JWT, '[REDACTED]');
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
