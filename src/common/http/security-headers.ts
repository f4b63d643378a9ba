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
