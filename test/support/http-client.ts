import { type IncomingHttpHeaders, request } from 'node:http';

/**
 * Plain HTTP against a real server. node:http rather than fetch because a test needs to choose the
 * client's address: every 127.0.0.0/8 address is this host, so `from: '127.9.8.7'` makes the server
 * see that client IP without trusting any proxy header (the per-IP rate limits key on it).
 */

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json<T>(): T;
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  /** Local (source) address of the connection, e.g. from randomLoopback(). */
  from?: string;
  timeoutMs?: number;
  /** More request headers. */
  headers?: Record<string, string>;
}

export function call(
  base: string,
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<HttpResult> {
  const url = new URL(path, base);
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const headers: Record<string, string> = { accept: 'application/json', ...(opts.headers ?? {}) };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method,
        headers,
        localAddress: opts.from,
        // one connection per call: no keep-alive socket outlives the test, and `from` is exact
        agent: false,
        timeout: opts.timeoutMs ?? 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: <T>(): T => JSON.parse(body) as T,
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.href} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** A random loopback address other than 127.0.0.1: a distinct client as far as the server can tell. */
export function randomLoopback(): string {
  const octet = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));
  return `127.${octet(1, 254)}.${octet(0, 255)}.${octet(1, 254)}`;
}
