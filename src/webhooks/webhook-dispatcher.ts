import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { Clock } from '../common/clock';
import { MaintenanceState } from '../common/maintenance';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { METRICS } from '../metrics/metrics';
import { BlockedTargetError, guardedLookup, isBlockedAddress } from './ssrf-guard';
import { signatureHeader } from './signing';
import type { WebhookDeliveryEntity } from './webhook-delivery.entity';
import type { WebhookEndpointEntity } from './webhook-endpoint.entity';
import { WebhooksRepository } from './webhooks.repository';
import { WebhooksService } from './webhooks.service';

/** Bytes of an answer read (for `last_error`); the rest is not read. */
const BODY_CAP = 1024;
/** Due deliveries claimed per sweep. */
const SWEEP_BATCH = 50;
/** Attempts in flight at once per instance. */
const CONCURRENCY = 8;
/** Each retry waits this many times longer than the one before (with ±25% jitter). */
const BACKOFF_FACTOR = 3.5;

export interface AttemptResult {
  ok: boolean;
  status: number | null;
  error: string | null;
}

/**
 * Delivers the outbox: claims a due delivery for one attempt (a conditional update: of any number of
 * instances and sweeps, one attempts it at a time, and a claim that outlives the attempt's timeout is
 * taken over), signs it (Standard Webhooks), POSTs it with a timeout, no redirects followed and the
 * answer read up to 1 KB, and records the outcome: a 2xx ends it; anything else is retried after
 * WEBHOOK_RETRY_BASE_SECONDS x 3.5^(attempt-1) (±25%), until WEBHOOK_MAX_ATTEMPTS, then FAILED.
 * New deliveries go out right after their commit (WebhooksService), retries when due (a timer of the
 * instance that failed them, and the scheduler's `webhook-delivery` sweep under its lease, which also
 * picks up what a crashed instance left).
 */
@Injectable()
export class WebhookDispatcher implements BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  readonly holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private running: Promise<number> | null = null;
  private again = false;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly repo: WebhooksRepository,
    private readonly webhooks: WebhooksService,
    private readonly clock: Clock,
    private readonly maintenance: MaintenanceState,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    webhooks.onDeliveriesCommitted(() => this.kick());
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  /** Sends what is due now, soon (coalesced: one sweep at a time, another right after if asked meanwhile). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.sweep().catch((err: unknown) =>
      this.logger.warn(`webhook sweep failed: ${err instanceof Error ? err.message : String(err)}`),
    );
  }

  /** Attempts every due delivery it can claim; returns how many it attempted. */
  sweep(): Promise<number> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    const run = (async () => {
      let attempted = 0;
      do {
        this.again = false;
        if (this.stopped || this.maintenance.active) break;
        const now = this.clock.now();
        const ids = await this.repo.dueIds(now, SWEEP_BATCH);
        const queue = [...ids];
        const worker = async (): Promise<void> => {
          for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
            if (await this.attempt(id)) attempted += 1;
          }
        };
        await Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
        if (ids.length === SWEEP_BATCH) this.again = true;
      } while (this.again);
      return attempted;
    })().finally(() => {
      this.running = null;
    });
    this.running = run;
    return run;
  }

  /** One attempt of one delivery, if this instance gets its claim; returns whether it attempted. */
  private async attempt(id: number): Promise<boolean> {
    const w = this.config.webhooks;
    const now = this.clock.now();
    const until = new Date(now.getTime() + w.timeoutMs + 5000);
    if (!(await this.repo.claim(id, this.holder, now, until))) return false;
    const delivery = await this.repo.findDeliveryById(id);
    const endpoint = delivery ? await this.repo.findEndpoint(delivery.endpointId) : null;
    if (!delivery || !endpoint) return false;
    if (endpoint.status !== 'ACTIVE') {
      await this.repo.finish(id, this.holder, {
        status: 'FAILED',
        lastError: 'the webhook is disabled',
        nextAttemptAt: null,
      });
      return false;
    }
    const done = this.deliver(delivery, endpoint);
    this.inFlight.add(done);
    try {
      await done;
    } finally {
      this.inFlight.delete(done);
    }
    return true;
  }

  private async deliver(d: WebhookDeliveryEntity, e: WebhookEndpointEntity): Promise<void> {
    const w = this.config.webhooks;
    const started = this.clock.now();
    const secrets = [e.secret];
    if (e.previousSecret && e.previousSecretUntil && e.previousSecretUntil.getTime() > started.getTime())
      secrets.push(e.previousSecret);
    const result = await this.post(e.url, d, secrets);
    const finished = this.clock.now();
    const attempts = d.attempts + 1;
    METRICS.webhookAttempts.inc({ outcome: result.ok ? 'success' : 'failure' });
    if (result.ok) {
      await this.repo.finish(d.id, this.holder, {
        status: 'DELIVERED',
        attempts,
        lastStatusCode: result.status,
        lastError: null,
        nextAttemptAt: null,
        deliveredAt: finished,
      });
      METRICS.webhookDeliveries.inc({ status: 'delivered' });
      METRICS.webhookLag.observe((finished.getTime() - d.createdAt.getTime()) / 1000);
      if (e.failingSince !== null) await this.repo.updateEndpoint(e.id, { failingSince: null });
      return;
    }
    const failed = attempts >= w.maxAttempts;
    const delayMs =
      w.retryBaseSeconds * 1000 * BACKOFF_FACTOR ** (attempts - 1) * (0.75 + Math.random() * 0.5);
    const next = failed ? null : new Date(finished.getTime() + delayMs);
    await this.repo.finish(d.id, this.holder, {
      status: failed ? 'FAILED' : 'PENDING',
      attempts,
      lastStatusCode: result.status,
      lastError: (result.error ?? `HTTP ${result.status}`).slice(0, 300),
      nextAttemptAt: next,
    });
    if (failed) METRICS.webhookDeliveries.inc({ status: 'failed' });
    else this.later(delayMs);
    const failingSince = e.failingSince ?? started;
    if (e.failingSince === null) await this.repo.updateEndpoint(e.id, { failingSince });
    else if (finished.getTime() - failingSince.getTime() >= w.disableAfterHours * 3_600_000) {
      await this.webhooks.disable(e, `the last answer was ${result.error ?? `HTTP ${result.status}`}`);
    }
  }

  /** A sweep once a retry this instance scheduled is due (the scheduler's sweep covers a restart). */
  private later(ms: number): void {
    if (this.stopped) return;
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        this.kick();
      },
      Math.max(10, ms + 20),
    );
    t.unref();
    this.timers.add(t);
  }

  /** One signed POST: 2xx is success; redirects are not followed; the answer is read up to BODY_CAP bytes. */
  post(
    url: string,
    d: Pick<WebhookDeliveryEntity, 'eventId' | 'payload'>,
    secrets: string[],
  ): Promise<AttemptResult> {
    const w = this.config.webhooks;
    const target = new URL(url);
    const host = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;
    if (!w.allowPrivate && isIP(host) !== 0 && isBlockedAddress(host))
      return Promise.resolve({ ok: false, status: null, error: new BlockedTargetError(host).message });
    const timestamp = Math.floor(this.clock.now().getTime() / 1000);
    const body = d.payload;
    const headers = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'user-agent': `exchange-rate-api-webhooks/${this.config.version}`,
      'webhook-id': d.eventId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(secrets, d.eventId, timestamp, body),
    };
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<AttemptResult>((resolve) => {
      let settled = false;
      const finish = (r: AttemptResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(r);
      };
      const req = send(
        target,
        {
          method: 'POST',
          headers,
          agent: false,
          ...(w.allowPrivate ? {} : { lookup: guardedLookup }),
        },
        (res: IncomingMessage) => {
          const status = res.statusCode ?? 0;
          let seen = 0;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => {
            if (seen < BODY_CAP) chunks.push(c.subarray(0, BODY_CAP - seen));
            seen += c.length;
            if (seen >= BODY_CAP) res.destroy();
          });
          const done = (): void => {
            const text = Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').trim();
            if (status >= 200 && status < 300) finish({ ok: true, status, error: null });
            else
              finish({
                ok: false,
                status,
                error: `HTTP ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}${text ? `: ${text.slice(0, 200)}` : ''}`,
              });
          };
          res.on('end', done);
          res.on('close', done);
          res.on('error', done);
        },
      );
      const timer = setTimeout(() => {
        req.destroy();
        finish({ ok: false, status: null, error: `no answer within ${w.timeoutMs} ms` });
      }, w.timeoutMs);
      req.on('error', (err) =>
        finish({
          ok: false,
          status: null,
          error: err instanceof BlockedTargetError ? err.message : err.message,
        }),
      );
      req.end(body);
    });
  }
}
