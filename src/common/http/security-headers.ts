import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * The headers helmet sets for these options, computed once at startup. (@fastify/helmet builds
 * helmet's whole middleware stack and re-parses the CSP directives on every request, about an
 * eighth of the CPU of a cached GET /exchangeRate; with static options, no nonces and no per-route
 * settings, the answer is the same headers every time.) Header names are lower case.
 */
export function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]): void {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string): void {
      delete headers[name.toLowerCase()];
    },
  };
  let finished = false;
  let failure: unknown;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    finished = true;
    failure = err;
  });
  if (!finished || failure !== undefined) {
    throw new Error(`helmet did not set its headers synchronously: ${String(failure)}`);
  }
  return headers;
}

/** Where Swagger UI is served (its page and assets; the JSON document is at `/docs-json`). */
export const DOCS_PATH = '/docs';

/**
 * Swagger UI's HTML: helmet's document headers, with a CSP the page can run under (inline
 * scripts and styles, the validator badge). Upgrading to https is off: the API is also served
 * over plain http on localhost, where an upgrade would break the page.
 */
export const DOCUMENT_SECURITY: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'", "'unsafe-inline'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
      frameAncestors: ["'none'"],
      upgradeInsecureRequests: null,
    },
  },
};

/**
 * Every other answer is JSON or CSV, which no browser should render as a page: the headers the
 * OWASP REST Security Cheat Sheet asks of an API. A CSP that allows nothing
 * (`default-src 'none'; frame-ancestors 'none'`, stricter than the page's), X-Frame-Options DENY,
 * nosniff, HSTS, Cross-Origin-Resource-Policy and no referrer; without the headers that only
 * mean something for an HTML document (Cross-Origin-Opener-Policy, Origin-Agent-Cluster,
 * X-DNS-Prefetch-Control, X-Download-Options, X-Permitted-Cross-Domain-Policies, X-XSS-Protection).
 * Half the headers, a quarter of the bytes: every answer is validated and written header by header.
 */
export const API_SECURITY: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
  xFrameOptions: { action: 'deny' },
};

/** The security headers of an answer to `path` (without its query string), computed once. */
export function securityHeadersByPath(): (path: string) => Record<string, string> {
  const api = securityHeaders(API_SECURITY);
  const document = securityHeaders(DOCUMENT_SECURITY);
  return (path) => (path === DOCS_PATH || path.startsWith(`${DOCS_PATH}/`) ? document : api);
}
