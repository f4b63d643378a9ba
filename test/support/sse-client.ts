import { type IncomingMessage, request } from 'node:http';

/** One Server-Sent Event as EventSource would dispatch it (comments kept, for the heartbeat). */
export interface SseEvent {
  type: string;
  id: string | undefined;
  data: string;
  comment?: string;
}

/**
 * A minimal SSE reader over node:http for tests (Node 20 has no EventSource): parses the stream by
 * the WHATWG rules this API relies on (event, id, data, comment lines; a blank line ends an event),
 * keeps every event, and lets a test wait for the next one matching a predicate.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  status = 0;
  headers: IncomingMessage['headers'] = {};
  /** The body of a non-stream answer (an error). */
  body = '';
  /** Resolves when the server ends the stream (or the connection breaks). */
  readonly ended: Promise<void>;
  private endedResolve!: () => void;
  private res: IncomingMessage | null = null;
  private buffer = '';
  private current: { type?: string; id?: string; data: string[]; comment?: string } = { data: [] };
  private waiters: { match: (e: SseEvent) => boolean; from: number; resolve: (e: SseEvent) => void }[] = [];
  private isEnded = false;

  private constructor() {
    this.ended = new Promise((resolve) => {
      this.endedResolve = resolve;
    });
  }

  /** Opens `path` on `base`; resolves once the status line and headers have arrived. */
  static open(base: string, path: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    const url = new URL(path, base);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          method: 'GET',
          headers: { accept: 'text/event-stream', ...headers },
          agent: false,
        },
        (res) => {
          client.res = res;
          client.status = res.statusCode ?? 0;
          client.headers = res.headers;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => client.feed(chunk));
          const done = () => client.finish();
          res.on('end', done);
          res.on('close', done);
          res.on('error', done);
          resolve(client);
        },
      );
      req.on('error', (err) => {
        if (client.res) client.finish();
        else reject(err);
      });
      req.end();
    });
  }

  get isOpen(): boolean {
    return !this.isEnded;
  }

  /** The events of a type received so far. */
  ofType(type: string): SseEvent[] {
    return this.events.filter((e) => e.type === type);
  }

  /** The first event (counting from event index `from`) that matches, waiting up to `timeoutMs`. */
  next(match: (e: SseEvent) => boolean, timeoutMs = 10_000, from = 0): Promise<SseEvent> {
    const seen = this.events.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `no matching event within ${timeoutMs} ms; got: ${JSON.stringify(this.events.map((e) => [e.type, e.id]))}`,
          ),
        );
      }, timeoutMs);
      const done = (e: SseEvent) => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push({ match, from, resolve: done });
    });
  }

  /** Waits for the next event of `type` after those already received. */
  nextOfType(type: string, timeoutMs = 10_000): Promise<SseEvent> {
    return this.next((e) => e.type === type, timeoutMs, this.events.length);
  }

  /** Closes the connection from the client's side. */
  close(): void {
    this.res?.destroy();
    this.finish();
  }

  private finish(): void {
    if (this.isEnded) return;
    this.isEnded = true;
    this.endedResolve();
  }

  private feed(chunk: string): void {
    if (this.status !== 200) {
      this.body += chunk;
      return;
    }
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + (this.buffer.startsWith('\r\n', nl) ? 2 : 1));
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') {
      const c = this.current;
      this.current = { data: [] };
      if (c.data.length === 0 && c.comment === undefined) return;
      this.emit({
        type: c.type ?? (c.data.length === 0 ? 'comment' : 'message'),
        id: c.id,
        data: c.data.join('\n'),
        comment: c.comment,
      });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === '') this.current.comment = value;
    else if (field === 'event') this.current.type = value;
    else if (field === 'id') this.current.id = value;
    else if (field === 'data') this.current.data.push(value);
  }

  private emit(e: SseEvent): void {
    const index = this.events.length;
    this.events.push(e);
    for (const w of [...this.waiters]) {
      if (index >= w.from && w.match(e)) {
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(e);
      }
    }
  }
}
