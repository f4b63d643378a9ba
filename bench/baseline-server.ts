import Fastify from 'fastify';
import { toMajor } from '../src/common/money';
import { iso, verify } from './bare-auth';
import { openBareDb } from './bare-db';

/**
 * The bare baselines of `npm run bench`, each started in its own process like the API:
 *  - BASELINE=hello: a Fastify hello-world (`GET /` answers `{"hello":"world"}`);
 *  - BASELINE=whoami: `GET /whoami` on bare Fastify doing what the API does per request, without
 *    Nest, passport or TypeORM: verifies the HS256 access token (signature, `alg`, `exp`, `typ`),
 *    loads the session joined with its user by the token's `sid` and checks it (user id, status,
 *    revoked, expired), then reads the user row and the wallet row and answers the same JSON.
 * Listens on 127.0.0.1:PORT; the database settings are the API's environment variables.
 */
interface SessionRow {
  user_id: number;
  expires_at: Date | string;
  revoked_at: Date | string | null;
  status: string;
}
interface UserRow {
  id: number;
  user_name: string;
  role: string;
  status: string;
  created_at: Date | string;
}
interface WalletRow {
  usd_available: string | number | bigint;
  lbp_available: string | number | bigint;
}
interface Lookup {
  session(id: string): Promise<SessionRow | undefined>;
  user(id: number): Promise<UserRow | undefined>;
  wallet(userId: number): Promise<WalletRow | undefined>;
}

const SESSION_SQL = `SELECT s.user_id, s.expires_at, s.revoked_at, u.status FROM auth_sessions s
  INNER JOIN users u ON u.id = s.user_id WHERE s.id = ?`;
const USER_SQL = 'SELECT id, user_name, role, status, created_at FROM users WHERE id = ?';
const WALLET_SQL = 'SELECT usd_available, lbp_available FROM wallets WHERE user_id = ?';

/** The same driver use as the writes' baseline (bare-db.ts): text protocol, like TypeORM's. */
function lookup(): Lookup {
  const db = openBareDb(process.env).scope(null);
  const one = async <T>(sql: string, id: string | number): Promise<T | undefined> =>
    (await db.all<T>(sql, [id]))[0];
  return {
    session: (id) => one<SessionRow>(SESSION_SQL, id),
    user: (id) => one<UserRow>(USER_SQL, id),
    wallet: (id) => one<WalletRow>(WALLET_SQL, id),
  };
}

async function main(): Promise<void> {
  const mode = process.env.BASELINE ?? 'hello';
  const app = Fastify({ logger: false });
  app.get('/health', () => ({ status: 'ok' }));
  if (mode === 'hello') {
    app.get('/', () => ({ hello: 'world' }));
  } else {
    const db = lookup();
    const key = Buffer.from(process.env.JWT_SECRET_KEY ?? '', 'utf8');
    app.get('/whoami', async (req, reply) => {
      const auth = req.headers.authorization ?? '';
      const claims = auth.startsWith('Bearer ') ? verify(auth.slice(7), key) : null;
      if (
        !claims ||
        typeof claims.sub !== 'number' ||
        claims.typ !== 'access' ||
        typeof claims.sid !== 'string'
      ) {
        return reply.code(401).send({ code: 'INVALID_TOKEN' });
      }
      const s = await db.session(claims.sid);
      if (
        !s ||
        s.user_id !== claims.sub ||
        s.status !== 'ACTIVE' ||
        s.revoked_at !== null ||
        new Date(iso(s.expires_at)).getTime() <= Date.now()
      ) {
        return reply.code(401).send({ code: 'INVALID_TOKEN' });
      }
      const u = await db.user(claims.sub);
      if (!u) return reply.code(404).send({ code: 'USER_NOT_FOUND' });
      const w = await db.wallet(u.id);
      return {
        id: u.id,
        user_name: u.user_name,
        role: u.role,
        status: u.status,
        created_at: iso(u.created_at),
        usd_balance: w ? toMajor(BigInt(w.usd_available)) : 0,
        lbp_balance: w ? toMajor(BigInt(w.lbp_available)) : 0,
        user_id: u.id,
      };
    });
  }
  await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});
