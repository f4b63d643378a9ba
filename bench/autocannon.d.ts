/** The few parts of autocannon@8 (no published types) that the benchmark uses. */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    interface Options {
      url: string;
      method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
      headers?: Record<string, string>;
      body?: string;
      connections?: number;
      /** Seconds. */
      duration?: number;
      /** Total requests; overrides duration. */
      amount?: number;
      /** Seconds before a request counts as timed out. */
      timeout?: number;
    }
    interface Result {
      /** Socket errors (timeouts included). */
      errors: number;
      timeouts: number;
      non2xx: number;
      /** Seconds. */
      duration: number;
    }
    /** Emitted as tracker.on('response', (client, statusCode, resBytes, responseTimeMs) => ...). */
    type ResponseListener = (
      client: unknown,
      statusCode: number,
      resBytes: number,
      responseTime: number,
    ) => void;
  }

  function autocannon(
    opts: autocannon.Options,
    cb: (err: Error | null, result: autocannon.Result) => void,
  ): EventEmitter;

  export = autocannon;
}
