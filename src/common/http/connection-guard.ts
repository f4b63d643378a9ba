import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  STATUS_CODES,
} from 'node:http';
import { BlockList, isIP, type Socket } from 'node:net';
import { METRICS } from '../../metrics/metrics';

/** What HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS, KEEP_ALIVE_TIMEOUT_MS and the caps set. */
export interface ConnectionLimits {
  /** The request line and headers must arrive within this (ms). */
  headersTimeoutMs: number;
  /** The whole request (headers and body) must arrive within this (ms); answers are not limited. */
  requestTimeoutMs: number;
  /** An idle keep-alive socket closes after this (ms). */
  keepAliveTimeoutMs: number;
  /** Open connections from one client at once; more are closed as they arrive. */
  maxPerClient: number;
  /** Open connections in all. */
  maxTotal: number;
  /** TRUST_PROXY: sockets from these peers carry many clients (counted per request instead). */
  trustProxy: boolean | number | string[];
}

/** The client address of a socket as the API uses it (IPv4-mapped IPv6 as plain IPv4). */
export function socketAddress(socket: Pick<Socket, 'remoteAddress'>): string {
  const a = socket.remoteAddress ?? 'unknown';
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

/** Whether a peer address is a proxy TRUST_PROXY trusts (its requests say who the client is). */
export function proxyMatcher(trustProxy: boolean | number | string[]): (address: string) => boolean {
  if (trustProxy === false || trustProxy === 0) return () => false;
  // a hop count trusts whatever is next to us (the last proxy); `true` is refused by the config
  if (typeof trustProxy === 'number' || trustProxy === true) return () => true;
  const list = new BlockList();
  for (const entry of trustProxy) {
    const [address, bits] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return (address) => {
    const family = isIP(address);
    return family !== 0 && list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  };
}

const TIMEOUT_BODY = JSON.stringify({
  error: 'The request did not arrive in time; the connection is closed.',
  code: 'REQUEST_TIMEOUT',
  statusCode: 408,
});
const CLIENT_ERROR_BODIES: Record<number, string> = {
  400: JSON.stringify({ error: 'The request is not valid.', code: 'BAD_REQUEST', statusCode: 400 }),
  431: JSON.stringify({
    error: 'The request headers are too large.',
    code: 'HEADERS_TOO_LARGE',
    statusCode: 431,
  }),
};

/** The request Node's parser is reading on a socket, if its headers have arrived (Node internals, read only). */
function incomingOf(socket: Socket): IncomingMessage | null {
  return (socket as Socket & { parser?: { incoming?: IncomingMessage | null } }).parser?.incoming ?? null;
}

/**
 * One client cannot hold the server:
 * - every socket is counted as it arrives, before a byte of it is parsed: past MAX_CONNECTIONS in all,
 *   or MAX_CONNECTIONS_PER_IP from one client address, it is closed at once (a socket from a proxy
 *   TRUST_PROXY trusts carries many clients: those are counted per request by `admitRequest`, by the
 *   address the proxy forwarded);
 * - Node closes a request whose headers have not arrived within HEADERS_TIMEOUT_MS, or whose body has
 *   not within REQUEST_TIMEOUT_MS, with 408 (checked every tenth of the shorter timeout, at most a
 *   second apart); idle keep-alive sockets close after KEEP_ALIVE_TIMEOUT_MS. An answer (a live
 *   stream, a CSV download) is never cut: the timeouts end once the request has arrived.
 * Counts go to /metrics (open connections, refused by cap, closed by timeout).
 */
export class ConnectionGuard {
  private open = 0;
  private readonly perClient = new Map<string, number>();
  /** Requests in flight per forwarded client address (sockets from trusted proxies). */
  private readonly proxied = new Map<string, number>();
  private readonly isProxy: (address: string) => boolean;

  constructor(private readonly limits: ConnectionLimits) {
    this.isProxy = proxyMatcher(limits.trustProxy);
  }

  get openConnections(): number {
    return this.open;
  }

  /** The HTTP server Fastify serves on (its `serverFactory`). */
  createServer(handler: RequestListener): Server {
    const l = this.limits;
    const server = createServer(
      {
        headersTimeout: l.headersTimeoutMs,
        requestTimeout: l.requestTimeoutMs,
        keepAliveTimeout: l.keepAliveTimeoutMs,
        connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(l.headersTimeoutMs / 10))),
      },
      handler,
    );
    server.on('connection', (socket: Socket) => this.onConnection(socket));
    // an idle keep-alive socket's timer ran out (the server has no other socket timeout)
    server.on('timeout', (socket: Socket) => {
      METRICS.connectionsTimedOut.inc({ phase: 'keep_alive' });
      socket.destroy();
    });
    return server;
  }

  private onConnection(socket: Socket): void {
    const address = socketAddress(socket);
    if (this.open >= this.limits.maxTotal) return this.refuse(socket, 'total');
    const counted = !this.isProxy(address);
    if (counted) {
      const n = this.perClient.get(address) ?? 0;
      if (n >= this.limits.maxPerClient) return this.refuse(socket, 'per_client');
      this.perClient.set(address, n + 1);
    }
    this.open += 1;
    METRICS.connectionsOpen.set(this.open);
    socket.once('close', () => {
      this.open -= 1;
      METRICS.connectionsOpen.set(this.open);
      if (!counted) return;
      const n = (this.perClient.get(address) ?? 1) - 1;
      if (n <= 0) this.perClient.delete(address);
      else this.perClient.set(address, n);
    });
  }

  private refuse(socket: Socket, reason: 'total' | 'per_client'): void {
    METRICS.connectionsRefused.inc({ reason });
    socket.destroy();
  }

  /** Whether the deployment has proxies to trust (then requests are admitted per forwarded client). */
  get behindProxy(): boolean {
    return this.limits.trustProxy !== false && this.limits.trustProxy !== 0;
  }

  /**
   * A request's headers have arrived (Fastify's onRequest). From a trusted proxy, the forwarded client
   * may have at most MAX_CONNECTIONS_PER_IP requests in flight: not admitted when this one is over
   * (the caller answers 429 and closes). Call `done` once when the request ends.
   */
  admitRequest(req: IncomingMessage, clientIp: string): { admitted: boolean; done: () => void } {
    if (!this.isProxy(socketAddress(req.socket))) return { admitted: true, done: () => undefined };
    const n = this.proxied.get(clientIp) ?? 0;
    if (n >= this.limits.maxPerClient) {
      METRICS.connectionsRefused.inc({ reason: 'per_client' });
      return { admitted: false, done: () => undefined };
    }
    this.proxied.set(clientIp, n + 1);
    let ended = false;
    return {
      admitted: true,
      done: () => {
        if (ended) return;
        ended = true;
        const left = (this.proxied.get(clientIp) ?? 1) - 1;
        if (left <= 0) this.proxied.delete(clientIp);
        else this.proxied.set(clientIp, left);
      },
    };
  }

  /**
   * Fastify's clientErrorHandler: a request that timed out (its headers or its body too slow) is
   * answered 408 in the contract's shape and closed; other malformed input 400, as Node would.
   */
  clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (timeout) {
      const incoming = incomingOf(socket);
      METRICS.connectionsTimedOut.inc({ phase: incoming && !incoming.complete ? 'body' : 'headers' });
    }
    const status = timeout ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body = timeout ? TIMEOUT_BODY : CLIENT_ERROR_BODIES[status];
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(err);
  }
}
