import { createHash, randomBytes } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type MessageEvent,
  type BeforeApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Observable, type Subscriber } from 'rxjs';
import { AccountInactiveError } from '../auth/auth.errors';
import { Clock } from '../common/clock';
import { AppError, UnauthorizedError, ValidationFailedError } from '../common/errors/app-error';
import { EventBus, type LiveEvent } from '../common/events/event-bus';
import { MaintenanceState } from '../common/maintenance';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { METRICS, readGauge } from '../metrics/metrics';
import { toNotificationDto } from '../notifications/notification.mapper';
import { NotificationsService } from '../notifications/notifications.service';
import type { ExchangeRateDto } from '../rates/dto/market.dto';
import { MarketService } from '../rates/market.service';
import { ReferenceRateService } from '../rates/reference-rate.service';
import { cursorOf, notificationEventId, otherEventId } from './stream-ids';
import { StreamTicketsRepository } from './stream-tickets.repository';

/** An open GET /stream on this instance. */
interface Connection {
  userId: number;
  sessionId: string;
  /** The newest notification id this stream has sent (or skipped as already known). */
  cursor: number;
  seq: number;
  /** Every write goes through this chain, so events leave in order and the cursor is exact. */
  queue: Promise<void>;
  subscriber: Subscriber<MessageEvent>;
  closed: boolean;
}

/** A GET /stream whose ticket was accepted. */
export interface StreamAdmission {
  userId: number;
  sessionId: string;
  /** The notification cursor of Last-Event-ID, or null for a fresh stream. */
  resumeFrom: number | null;
}

/** 429 when a user already has as many open streams as allowed. */
export class TooManyStreamsError extends AppError {
  constructor(max: number, retryAfterSeconds: number) {
    super(
      429,
      'TOO_MANY_STREAMS',
      `You already have ${max} open live stream${max === 1 ? '' : 's'}; close one first.`,
      undefined,
      { 'Retry-After': String(retryAfterSeconds) },
    );
  }
}

class InvalidTicketError extends UnauthorizedError {
  constructor() {
    super(
      'The stream ticket is unknown, used or expired: ask POST /stream/ticket for a new one.',
      'INVALID_TICKET',
    );
  }
}

const NOTIFICATION_BATCH = 100;
/** Commits close together are looked at once for a rate change. */
const RATE_CHECK_DELAY_MS = 200;

function hashTicket(ticket: string): string {
  return createHash('sha256').update(ticket, 'utf8').digest('hex');
}

/** What identifies a published rate: an event goes out when this changes. */
function rateKey(r: ExchangeRateDto): string {
  return `${r.usd_to_lbp ?? '-'}|${r.lbp_to_usd ?? '-'}`;
}

/**
 * Live streams (GET /stream, Server-Sent Events through Nest's @Sse): one-time tickets, a per-user
 * cap, and the events:
 * - `rate`: the published rate moved. The instance whose commit (or window move, or outlier mark)
 *   changed it publishes the new GET /exchangeRate body on the event bus; every instance passes on a
 *   body whose rates differ from the last it passed on (and not older than it).
 * - `offer`: the open order book changed (OffersService publishes after its commits).
 * - `notification`: one of the user's own, read from the database after the bus says there is news,
 *   so nothing is lost between instances and a reconnect resumes from its Last-Event-ID.
 * Every heartbeat writes a comment (proxies close silent connections) and re-checks that each
 * stream's session is still live and its user active; the stream ends when not.
 */
@Injectable()
export class StreamService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('StreamService');
  private readonly connections = new Set<Connection>();
  private heartbeat: NodeJS.Timeout | null = null;
  private rateCheck: NodeJS.Timeout | null = null;
  /** The last rate passed on to streams here, and this instance's own last view of it (rateKey). */
  private delivered: string | null = null;
  private lastLocalKey: string | null = null;
  private closing = false;

  constructor(
    private readonly tickets: StreamTicketsRepository,
    private readonly notifications: NotificationsService,
    private readonly market: MarketService,
    private readonly reference: ReferenceRateService,
    private readonly events: EventBus,
    private readonly clock: Clock,
    private readonly maintenance: MaintenanceState,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.events.subscribe((e) => this.onEvent(e));
    this.reference.onChange(() => this.scheduleRateCheck());
    this.heartbeat = setInterval(() => void this.beat(), this.config.stream.heartbeatSeconds * 1000);
    this.heartbeat.unref();
    readGauge(
      'exchange_streams_open',
      'Live streams (GET /stream) open on this instance',
      [],
      () => this.size,
    );
  }

  /** Open streams on this instance. */
  get size(): number {
    return this.connections.size;
  }

  /** POST /stream/ticket: a ticket for the caller's session, usable once until it expires. */
  async issueTicket(sessionId: string): Promise<{ ticket: string; expiresAt: Date }> {
    const ticket = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.config.stream.ticketTtlSeconds * 1000);
    await this.tickets.insert({ id: hashTicket(ticket), sessionId, expiresAt, createdAt: now });
    return { ticket, expiresAt };
  }

  /**
   * GET /stream, first half (StreamTicketGuard, before Nest's SSE handling begins, so a refusal is an
   * ordinary error answer): checks `lastEventId` (the Last-Event-ID header or the last_event_id
   * parameter), the ticket, its session and the cap, and uses the ticket up.
   */
  async admit(ticket: string, lastEventId: string | undefined): Promise<StreamAdmission> {
    let resumeFrom: number | null = null;
    if (lastEventId !== undefined && lastEventId !== '') {
      resumeFrom = cursorOf(lastEventId);
      if (resumeFrom === null) {
        throw new ValidationFailedError(
          [{ field: 'last_event_id', message: 'must be the id of an event this stream sent' }],
          'Last-Event-ID is not an id this service sent.',
        );
      }
    }
    const id = hashTicket(ticket);
    const holder = await this.tickets.find(id);
    const now = this.clock.now();
    if (!holder || holder.expiresAt <= now || holder.sessionEndsAt <= now) throw new InvalidTicketError();
    if (holder.userStatus !== 'ACTIVE') throw new AccountInactiveError(holder.userStatus);
    // checked before the ticket is used up (so a refused client can retry with it), and again below
    this.checkCap(holder.userId);
    if (!(await this.tickets.consume(id))) throw new InvalidTicketError();
    return { userId: holder.userId, sessionId: holder.sessionId, resumeFrom };
  }

  /**
   * GET /stream, second half: the stream of an admitted request. The slot is taken when Nest
   * subscribes (synchronously, so a full cap is still an error answer, 429).
   */
  stream(admission: StreamAdmission): Observable<MessageEvent> {
    const { resumeFrom } = admission;
    return new Observable<MessageEvent>((subscriber) => {
      if (this.closing) {
        subscriber.complete();
        return undefined;
      }
      this.checkCap(admission.userId); // no await since this check: the slot is taken at once
      const conn: Connection = {
        userId: admission.userId,
        sessionId: admission.sessionId,
        cursor: 0,
        seq: 0,
        queue: Promise.resolve(),
        subscriber,
        closed: false,
      };
      this.connections.add(conn);
      this.enqueue(conn, async () => {
        const latest = await this.notifications.latestId(conn.userId);
        if (resumeFrom === null) {
          conn.cursor = latest;
        } else {
          conn.cursor = Math.min(resumeFrom, latest);
          await this.sendNotifications(conn);
        }
        const rate = await this.market.exchangeRate();
        this.noteInitialRate(rate);
        this.send(conn, 'rate', rate);
      });
      return () => this.forget(conn);
    });
  }

  private checkCap(userId: number): void {
    const max = this.config.stream.maxPerUser;
    let open = 0;
    for (const c of this.connections) if (c.userId === userId) open += 1;
    if (open >= max) throw new TooManyStreamsError(max, this.config.stream.heartbeatSeconds);
  }

  private forget(conn: Connection): void {
    if (conn.closed) return;
    conn.closed = true;
    this.connections.delete(conn);
  }

  private end(conn: Connection): void {
    if (conn.closed) return;
    this.forget(conn);
    conn.subscriber.complete();
  }

  /** Runs `work` after everything queued on the stream; a failure ends the stream (the client reconnects). */
  private enqueue(conn: Connection, work: () => Promise<void> | void): void {
    conn.queue = conn.queue
      .then(() => (conn.closed ? undefined : work()))
      .catch((err: unknown) => {
        this.logger.warn(
          `live stream of user ${conn.userId} ended: ${err instanceof Error ? err.message : String(err)}`,
        );
        this.end(conn);
      });
  }

  private send(conn: Connection, type: 'rate' | 'offer', data: object): void {
    if (conn.closed) return;
    conn.seq += 1;
    conn.subscriber.next({ type, id: otherEventId(conn.cursor, conn.seq), data });
    METRICS.streamEvents.inc({ type });
  }

  private async sendNotifications(conn: Connection): Promise<void> {
    for (;;) {
      const rows = await this.notifications.after(conn.userId, conn.cursor, NOTIFICATION_BATCH);
      for (const n of rows) {
        if (conn.closed) return;
        conn.cursor = n.id;
        conn.subscriber.next({
          type: 'notification',
          id: notificationEventId(n.id),
          data: toNotificationDto(n),
        });
        METRICS.streamEvents.inc({ type: 'notification' });
      }
      if (rows.length < NOTIFICATION_BATCH) return;
    }
  }

  private onEvent(e: LiveEvent): void {
    if (e.type === 'notification') {
      for (const conn of this.connections) {
        if (conn.userId === e.userId) this.enqueue(conn, () => this.sendNotifications(conn));
      }
    } else if (e.type === 'offer') {
      for (const conn of this.connections) this.enqueue(conn, () => this.send(conn, 'offer', e.data));
    } else if (e.type === 'rate') {
      this.deliverRate(e.data as ExchangeRateDto);
    }
  }

  /** Passes a rate on to this instance's streams unless it is the one they have. */
  private deliverRate(body: ExchangeRateDto): void {
    const key = rateKey(body);
    if (this.delivered === key) return;
    this.delivered = key;
    for (const conn of this.connections) this.enqueue(conn, () => this.send(conn, 'rate', body));
  }

  /** A new stream's first rate: before any event, it is what streams here have and what this instance sees. */
  private noteInitialRate(body: ExchangeRateDto): void {
    const key = rateKey(body);
    this.delivered ??= key;
    this.lastLocalKey ??= key;
  }

  private scheduleRateCheck(): void {
    if (this.rateCheck || this.closing) return;
    this.rateCheck = setTimeout(() => {
      this.rateCheck = null;
      void this.checkRate();
    }, RATE_CHECK_DELAY_MS);
    this.rateCheck.unref();
  }

  /**
   * Publishes the rate on the bus when this instance's view of it changed since it last looked and
   * differs from what the streams have. Only a change of this instance's own view counts: a view
   * that is a moment behind another instance's event stays what it was, so it sends nothing back.
   */
  private async checkRate(): Promise<void> {
    if (this.maintenance.active || this.closing) return;
    try {
      const body = await this.market.exchangeRate();
      const key = rateKey(body);
      if (key === this.lastLocalKey) return;
      this.lastLocalKey = key;
      if (key !== this.delivered) this.events.publish({ type: 'rate', data: body });
    } catch (err) {
      this.logger.debug(`rate check failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Every heartbeat: a comment on each stream, the sessions re-checked, the rate looked at. */
  async beat(): Promise<void> {
    if (this.connections.size === 0 || this.maintenance.active) return;
    for (const conn of this.connections) {
      this.enqueue(conn, () => {
        if (!conn.closed) conn.subscriber.next({ comment: 'heartbeat' });
      });
    }
    try {
      const ids = [...new Set([...this.connections].map((c) => c.sessionId))];
      const live = await this.tickets.liveSessions(ids, this.clock.now());
      for (const conn of [...this.connections]) if (!live.has(conn.sessionId)) this.end(conn);
    } catch (err) {
      // the database is away: streams stay open, the next heartbeat checks again
      this.logger.debug(`session check failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    await this.checkRate();
  }

  /** Ends every stream (shutdown); new ones are refused from now on. */
  closeAll(): number {
    this.closing = true;
    const n = this.connections.size;
    for (const conn of [...this.connections]) this.end(conn);
    return n;
  }

  /** Deletes tickets that expired unused (a scheduled job). */
  purgeExpiredTickets(): Promise<number> {
    return this.tickets.purgeExpired(this.clock.now());
  }

  /** Before the HTTP server closes: it would otherwise wait for the streams, which never end by themselves. */
  beforeApplicationShutdown(): void {
    this.closeAll();
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.rateCheck) clearTimeout(this.rateCheck);
    this.heartbeat = null;
    this.rateCheck = null;
  }
}
