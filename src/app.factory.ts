import { randomUUID } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
import cors from '@fastify/cors';
import { type LogLevel } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestListener } from 'node:http';
import type { Socket } from 'node:net';
import { SwaggerModule } from '@nestjs/swagger';
import { AppModule } from './app.module';
import { AuthService } from './auth/auth.service';
import { AppError, BadRequestError } from './common/errors/app-error';
import { jsonDepthExceeds, MAX_JSON_DEPTH } from './common/http/json-depth';
import { pathOf } from './common/http/request-meta';
import { ConnectionGuard } from './common/http/connection-guard';
import { redactUrl } from './common/http/redact-url';
import { DOCS_PATH, securityHeadersByPath } from './common/http/security-headers';
import { MAINTENANCE_RETRY_SECONDS, MaintenanceState } from './common/maintenance';
import { ReadReplica } from './database/read-replica';
import { type RecordingStore, StatementRecorder } from './database/statement-recorder';
import { createValidationPipe } from './common/pipes/validation.pipe';
import { MarketService } from './rates/market.service';
import { observeRequest } from './metrics/metrics';
import type { AppConfig } from './config/app-config';
import { buildOpenApiDocument } from './openapi';

const NEST_LEVELS: Record<string, LogLevel[] | false> = {
  silent: false,
  fatal: ['fatal'],
  error: ['fatal', 'error'],
  warn: ['fatal', 'error', 'warn'],
  info: ['fatal', 'error', 'warn', 'log'],
  debug: ['fatal', 'error', 'warn', 'log', 'debug'],
  trace: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'],
};

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Answered from the market-rate cache when it is fresh (see the onRequest hook below). */
const EXCHANGE_RATE_ROUTE = '/exchangeRate';

/**
 * The one route whose bodies may exceed BODY_LIMIT_BYTES, up to IMPORT_BODY_LIMIT_BYTES, and only
 * for a fresh admin (checked before the body is read).
 */
const IMPORT_ROUTE = '/admin/rates/import';

/** The request body as it streams in, cut with `error()` once it passes `limit` bytes. */
function capped(source: Readable, limit: number, error: () => Error): Readable {
  let seen = 0;
  const out = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      callback(seen > limit ? error() : null, seen > limit ? undefined : chunk);
    },
  });
  source.on('error', (err) => out.destroy(err));
  return source.pipe(out);
}

/** Response headers that scripts on other origins may read. */
const CORS_EXPOSED_HEADERS = ['Content-Disposition', 'X-Total-Count', 'Retry-After', 'X-Request-Id'];

/**
 * What the CORS hook (@fastify/cors with a list of origins) adds to the answer to a request
 * without an Origin header: the Vary that keeps caches from serving it to a browser, and the
 * exposed headers (no Access-Control-Allow-Origin: it is not a CORS request).
 */
const NON_CORS_HEADERS = { vary: 'Origin', 'access-control-expose-headers': CORS_EXPOSED_HEADERS.join(', ') };

/** The one place that builds the app: main.ts, the e2e tests and the benchmarks all call it. */
export async function createApp(config: AppConfig): Promise<NestFastifyApplication> {
  // helmet's headers by kind of answer (see security-headers.ts), and the request id: on every
  // answer, set by the first hook of ours or, for errors Fastify raises before routing, below.
  const securityFor = securityHeadersByPath();
  const identify = (req: FastifyRequest, reply: FastifyReply, path: string): FastifyReply =>
    reply.headers(securityFor(path)).header('x-request-id', req.id);
  // One client cannot hold the server: connection caps as sockets arrive, and timeouts for slow
  // requests (connection-guard.ts); the server is ours, Fastify serves on it.
  const connections = new ConnectionGuard({
    headersTimeoutMs: config.connections.headersTimeoutMs,
    requestTimeoutMs: config.connections.requestTimeoutMs,
    keepAliveTimeoutMs: config.connections.keepAliveTimeoutMs,
    maxPerClient: config.connections.maxPerIp,
    maxTotal: config.connections.maxTotal,
    trustProxy: config.trustProxy,
  });
  const adapter = new FastifyAdapter({
    serverFactory: (handler: RequestListener) => connections.createServer(handler),
    clientErrorHandler: (err: Error, socket: Socket) => connections.clientError(err, socket),
    // enforced while the body streams (chunked or not); the import route has its own, see below
    bodyLimit: config.bodyLimitBytes,
    trustProxy:
      typeof config.trustProxy === 'number'
        ? (_address: string, hop: number) => hop < (config.trustProxy as number)
        : config.trustProxy,
    // Errors Fastify raises before routing (a malformed URL, ...) answer in the contract's shape too.
    frameworkErrors: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      const status =
        typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500
          ? err.statusCode
          : 400;
      void identify(req, reply, pathOf(req.url))
        .status(status)
        .send({ error: 'The request is not valid.', code: 'BAD_REQUEST', statusCode: status });
    },
    requestIdHeader: false,
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    logger:
      config.logLevel === 'silent'
        ? false
        : {
            level: config.logLevel,
            // a request's URL without the values of credential parameters (the stream's ticket)
            serializers: {
              req: (req: FastifyRequest) => ({
                method: req.method,
                url: redactUrl(req.url),
                host: req.host,
                remoteAddress: req.ip,
                remotePort: req.socket?.remotePort,
              }),
            },
            redact: {
              paths: [
                'req.headers.authorization',
                'req.headers.cookie',
                'req.headers["idempotency-key"]',
                '*.password',
              ],
              censor: '[REDACTED]',
            },
          },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, {
    logger: NEST_LEVELS[config.logLevel] ?? NEST_LEVELS.info,
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance();

  // Body limits. Fastify counts the bytes as they arrive and stops reading at the route's limit:
  // BODY_LIMIT_BYTES everywhere, IMPORT_BODY_LIMIT_BYTES on the import route, where a preParsing
  // hook (below) cuts the body at BODY_LIMIT_BYTES unless the token is a fresh admin's.
  const tooLarge = () => new AppError(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large.');
  const routeLimit = (req: FastifyRequest): number =>
    req.routeOptions.url === IMPORT_ROUTE ? config.importBodyLimitBytes : config.bodyLimitBytes;
  fastify.addHook('onRoute', (route) => {
    if (route.url === IMPORT_ROUTE) route.bodyLimit = config.importBodyLimitBytes;
  });
  const auth = app.get(AuthService);
  fastify.addHook('preParsing', async (req, _reply, payload) => {
    if (req.routeOptions.url !== IMPORT_ROUTE) return payload;
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer && (await auth.isFreshAdminToken(bearer))) return payload;
    if (Number(req.headers['content-length'] ?? 0) > config.bodyLimitBytes) throw tooLarge();
    return capped(payload, config.bodyLimitBytes, tooLarge);
  });

  // Browser clients send Content-Type: application/json on body-less POSTs: an empty body is no body.
  const defaultJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: config.bodyLimitBytes },
    (req, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') return done(null, undefined);
      if (jsonDepthExceeds(text)) {
        return done(
          new BadRequestError(`The request body nests deeper than ${MAX_JSON_DEPTH} levels.`, 'INVALID_JSON'),
          undefined,
        );
      }
      return defaultJson(req, text, (err, parsed) =>
        err
          ? done(new BadRequestError('The request body is not valid JSON.', 'INVALID_JSON'), undefined)
          : done(null, parsed),
      );
    },
  );
  // CSV uploads (the rate import) arrive as text.
  fastify.addContentTypeParser(
    'text/csv',
    { parseAs: 'string', bodyLimit: config.bodyLimitBytes },
    (_req, body, done) => done(null, typeof body === 'string' ? body : body.toString('utf8')),
  );

  // GET /exchangeRate is public, unthrottled and read by every client: while the market rate is
  // cached (MarketService), its body is answered by an onRequest hook, after the maintenance gate and
  // with the same headers as a computed answer, but before the Nest pipeline. On a miss the request
  // goes on to the controller, which computes and caches the rate.
  const market = app.get(MarketService);
  const answeredFromCache = (method: string, path: string, reply: FastifyReply): boolean => {
    if (method !== 'GET' || path !== EXCHANGE_RATE_ROUTE) return false;
    const body = market.cachedExchangeRateJson();
    if (body === null) return false;
    void reply.header('content-type', 'application/json; charset=utf-8').send(body);
    return true;
  };

  // One hook before everything else of ours, on every request. First, a cached GET /exchangeRate
  // without an Origin header (not a CORS request, so the CORS hook would only add its constant
  // NON_CORS_HEADERS), unless a restore runs or the request announces an oversized body, is answered
  // at once with its precomputed headers. Else: the security headers and the request id (so that
  // every answer carries them, refusals included); then an announced oversized body is refused
  // before it is read (only the import route may announce megabytes); then, while a restore is
  // replacing every table, nothing else runs (the health check still answers).
  const maintenance = app.get(MaintenanceState);
  // The cached answer's headers apart from its request id and length, flattened for writeHead: the
  // same ones a computed answer gets (API security set, the non-CORS Vary and exposed headers, the
  // content type), built once instead of set one by one per request.
  const cachedRateHeaders = Object.entries({
    ...securityFor(EXCHANGE_RATE_ROUTE),
    ...NON_CORS_HEADERS,
    'content-type': 'application/json; charset=utf-8',
  }).flat();
  fastify.addHook('onRequest', (req, reply, done) => {
    const path = pathOf(req.url);
    const tooBig = Number(req.headers['content-length'] ?? 0) > routeLimit(req);
    if (
      !tooBig &&
      !maintenance.active &&
      req.method === 'GET' &&
      path === EXCHANGE_RATE_ROUTE &&
      req.headers.origin === undefined
    ) {
      const answer = market.cachedExchangeRateAnswer();
      if (answer !== null) {
        // written straight to the socket's response, head and body in one write (the onResponse
        // hooks, metrics, still run)
        reply.hijack();
        reply.raw.writeHead(200, [
          ...cachedRateHeaders,
          'x-request-id',
          req.id,
          'content-length',
          String(answer.bytes),
        ]);
        reply.raw.end(answer.json);
        return;
      }
    }
    void identify(req, reply, path);
    if (tooBig) return done(tooLarge());
    if (maintenance.active && path !== '/health' && !path.startsWith('/health/')) {
      void reply.code(503).header('retry-after', String(MAINTENANCE_RETRY_SECONDS)).send({
        error: 'The service is being restored from a backup. Try again in a moment.',
        code: 'MAINTENANCE',
        statusCode: 503,
      });
      return;
    }
    done();
  });

  // Behind a trusted proxy the sockets are the proxy's: each forwarded client may have at most
  // MAX_CONNECTIONS_PER_IP requests in flight (a slow body holds one), counted once its headers are in.
  if (connections.behindProxy) {
    const ends = new WeakMap<FastifyRequest, () => void>();
    const end = (req: FastifyRequest): void => {
      ends.get(req)?.();
      ends.delete(req);
    };
    fastify.addHook('onRequest', (req, reply, done) => {
      const a = connections.admitRequest(req.raw, req.ip);
      if (a.admitted) {
        ends.set(req, a.done);
        return done();
      }
      void reply.code(429).header('retry-after', '1').header('connection', 'close').send({
        error: 'Too many requests at once from your address. Try again in a moment.',
        code: 'RATE_LIMITED',
        statusCode: 429,
      });
    });
    fastify.addHook('onResponse', (req, _reply, done) => {
      end(req);
      done();
    });
    fastify.addHook('onRequestAbort', (req, done) => {
      end(req);
      done();
    });
  }

  await app.register(cors, {
    origin: config.corsOrigins,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id', 'Last-Event-ID'],
    exposedHeaders: CORS_EXPOSED_HEADERS,
    credentials: false,
    maxAge: 600,
  });

  // A cached GET /exchangeRate from a browser on another origin: after the CORS hook.
  fastify.addHook('onRequest', (req, reply, done) => {
    if (!answeredFromCache(req.method, pathOf(req.url), reply)) done();
  });

  // DB_STATEMENT_LOG (the benchmark): each request's SQL statements, from its handler on
  if (config.db.statementLog) {
    const recorder = StatementRecorder.for(config.db.statementLog);
    const stores = new WeakMap<FastifyRequest, RecordingStore>();
    fastify.addHook('preHandler', (req, _reply, done) => {
      stores.set(req, recorder.begin(done));
    });
    fastify.addHook('onResponse', (req, reply, done) => {
      const store = stores.get(req);
      if (store) recorder.end(store, req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode);
      done();
    });
  }

  // With read replicas: a user who wrote reads from the primary for a while (read-your-writes),
  // marked before the answer is sent, so no read the client makes after seeing it can miss the mark.
  const reads = app.get(ReadReplica);
  if (reads.configured) {
    const readOnly = new Set(['GET', 'HEAD', 'OPTIONS']);
    fastify.addHook('onSend', (req, _reply, payload, done) => {
      const user = (req as FastifyRequest & { user?: { id?: number } }).user;
      if (!readOnly.has(req.method) && typeof user?.id === 'number') reads.noteWrite(user.id);
      done(null, payload);
    });
  }

  // every answer counted by route template and status class (never the URL: bounded series)
  if (config.metrics.enabled) {
    fastify.addHook('onResponse', (req, reply, done) => {
      observeRequest(req.method, req.routeOptions.url, reply.statusCode, reply.elapsedTime);
      done();
    });
  }

  app.useGlobalPipes(createValidationPipe());
  // no enableShutdownHooks(): main.ts stops in its own order on SIGTERM/SIGINT (graceful-shutdown.ts)

  const document = buildOpenApiDocument(app, config.version);
  SwaggerModule.setup(DOCS_PATH.slice(1), app, document, {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });

  await app.init();
  await fastify.ready();
  // Keep a handle for tests that need the adapter host (e.g. to inspect routes).
  app.get(HttpAdapterHost);
  return app;
}
