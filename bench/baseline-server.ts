import Fastify from 'fastify';

/**
 * The bare hello-world of `npm run bench` (BASELINE=hello), started in its own process like the API:
 * a Fastify app whose `GET /` answers `{"hello":"world"}`, the ceiling for the cached
 * GET /exchangeRate. (The authenticated routes' baselines run our statements: same-work-server.ts.)
 * Listens on 127.0.0.1:PORT.
 */
async function main(): Promise<void> {
  const app = Fastify({ logger: false });
  app.get('/health', () => ({ status: 'ok' }));
  app.get('/', () => ({ hello: 'world' }));
  await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
