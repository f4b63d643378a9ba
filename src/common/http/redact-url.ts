/** Query parameters whose values are credentials: never written to a log. */
const SECRET_PARAMS = /^(ticket|token|access_token|refresh_token|password|secret|api_key|key)$/i;

/**
 * The URL with the values of credential query parameters (the stream's one-time `ticket`, any
 * token) replaced by `[REDACTED]`, for logs. The path and the other parameters stay as they were.
 */
export function redactUrl(url: string | undefined): string {
  if (url === undefined) return '';
  const q = url.indexOf('?');
  if (q === -1) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // a malformed name is kept as it is
      }
      return eq !== -1 && SECRET_PARAMS.test(decoded.trim()) ? `${name}=[REDACTED]` : pair;
    })
    .join('&');
  return `${url.slice(0, q)}?${query}`;
}
