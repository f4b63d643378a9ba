import { createConnection } from 'mysql2/promise';
import { DataSource } from 'typeorm';
import { ClusterMonitor } from '../src/database/cluster-monitor';
import { TransactionRunner } from '../src/database/transaction-runner';
import { createUser } from './factories/users';
import { E2E_DB, startTestApp, type TestApp } from './test-app';

/**
 * Issue 26, on the Galera cluster of .ci/run (E2E_CLUSTER_URLS; the failover itself is
 * test/cluster-failover.e2e-spec.ts): the node taking the writes is the first of the list and is
 * named on /health/ready and /metrics, every connection reads causally, and a certification conflict
 * (a write on another node committed first) is retried like a deadlock.
 */

const CLUSTER_URLS = process.env.E2E_CLUSTER_URLS ?? '';
const TOKEN = 'metrics-token-0123456789abcdef';

const nodes = CLUSTER_URLS.split(',')
  .filter((u) => u !== '')
  .map((u) => {
    const url = new URL(u);
    return {
      host: url.hostname,
      port: Number(url.port || 3306),
      user: decodeURIComponent(url.username || 'root'),
      password: decodeURIComponent(url.password),
    };
  });
const name = (n: (typeof nodes)[number]) => `${n.host}:${n.port}`;

(E2E_DB === 'mysql' && nodes.length > 1 ? describe : describe.skip)('on a Galera cluster', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ METRICS_TOKEN: TOKEN });
  });
  afterAll(() => t?.close());

  it('writes go to the first healthy node, named on /health/ready and /metrics', async () => {
    expect(t.app.get(ClusterMonitor).node).toBe(name(nodes[0]));
    const ready = await t.request('GET', '/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', db: 'up', db_node: name(nodes[0]) });
    const metrics = (await t.request('GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } }))
      .body;
    for (const [i, n] of nodes.entries()) {
      expect(metrics).toContain(`exchange_db_cluster_node{node="${name(n)}"} ${i === 0 ? 1 : 0}`);
      expect(metrics).toContain(`exchange_db_cluster_node_healthy{node="${name(n)}"} 1`);
    }
    expect(metrics).toContain('exchange_db_cluster_failovers_total 0');
  });

  it('every connection of the pool reads causally (wsrep_sync_wait = 1)', async () => {
    const tx = t.app.get(TransactionRunner);
    const seen = await Promise.all(
      Array.from({ length: 8 }, () =>
        tx.run(async (m) => {
          const rows: { w: unknown }[] = await m.query('SELECT @@session.wsrep_sync_wait AS w');
          return Number(rows[0].w);
        }),
      ),
    );
    expect(seen).toEqual(Array.from({ length: 8 }, () => 1));
  });

  it('a certification conflict (the same row written on another node first) is retried like a deadlock', async () => {
    const u = await createUser(t, 'cert');
    const ds = t.app.get(DataSource);
    const database = t.config.db.name;
    const other = await createConnection({ ...nodes[1], database });
    try {
      let attempts = 0;
      await t.app.get(TransactionRunner).run(async (m) => {
        attempts += 1;
        await m.query('UPDATE users SET email = ? WHERE id = ?', [`app-${attempts}@example.com`, u.id]);
        // the first attempt: another node commits a write to the same row while this one is open
        if (attempts === 1)
          await other.query('UPDATE users SET email = ? WHERE id = ?', ['other@example.com', u.id]);
      });
      expect(attempts).toBe(2);
      const rows: { email: string }[] = await ds.query('SELECT email FROM users WHERE id = ?', [u.id]);
      expect(rows[0].email).toBe('app-2@example.com');
    } finally {
      await other.end();
    }
  });
});
