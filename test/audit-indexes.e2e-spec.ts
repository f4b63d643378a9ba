import { DataSource } from 'typeorm';
import { createAdmin, type TestUser } from './factories/users';
import { startTestApp, type TestApp } from './test-app';

/**
 * Every filter of GET /admin/logs is served by an index that leads with it (and then gives the
 * newest-first order), on both dialects: the page query and its count are captured as the API runs
 * them, then EXPLAINed on a trail of a few thousand rows.
 */

jest.setTimeout(120_000);

const ROWS = 4000;
const EVENTS = ['LOGIN_SUCCESS', 'LOGIN_FAILURE', 'TRANSACTION_CREATE', 'ALERT_CREATE', 'OFFER_CREATE'];

describe('audit log filters use their indexes (EXPLAIN)', () => {
  let t: TestApp;
  let admin: TestUser;
  let ds: DataSource;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await createAdmin(t);
    ds = t.app.get(DataSource);
    const start = Date.UTC(2026, 0, 1);
    const values: unknown[] = [];
    const tuples: string[] = [];
    for (let i = 0; i < ROWS; i++) {
      const actor = 1000 + (i % 200);
      tuples.push('(?, ?, ?, ?, ?, ?, ?, ?)');
      values.push(
        new Date(start + i * 60_000).toISOString().replace('T', ' ').replace('Z', ''),
        EVENTS[i % EVENTS.length],
        'seed',
        i % 25 === 0 ? 0 : 1, // 4% refusals
        actor,
        `user${actor}`,
        1000 + ((i * 7) % 200),
        '/seed',
      );
      if (tuples.length === 500 || i === ROWS - 1) {
        await ds.query(
          'INSERT INTO audit_logs (created_at, event_type, action, success, actor_user_id, actor_username, target_user_id, path) VALUES ' +
            tuples.join(', '),
          values,
        );
        tuples.length = 0;
        values.length = 0;
      }
    }
    await ds.query(t.db === 'mysql' ? 'ANALYZE TABLE audit_logs' : 'ANALYZE');
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await t.close();
  });

  /** The SELECTs on audit_logs that GET /admin/logs?<query> runs. */
  async function queriesOf(query: string): Promise<{ sql: string; params: unknown[] }[]> {
    const seen: { sql: string; params: unknown[] }[] = [];
    const spy = jest.spyOn(ds.logger, 'logQuery').mockImplementation((sql: string, params?: unknown) => {
      if (/^\s*SELECT/i.test(sql) && /audit_logs/.test(sql))
        seen.push({ sql, params: Array.isArray(params) ? (params as unknown[]) : [] });
    });
    try {
      const res = await t.request('GET', `/admin/logs?${query}`, { token: admin.access });
      expect({ query, status: res.statusCode }).toEqual({ query, status: 200 });
    } finally {
      spy.mockRestore();
    }
    return seen;
  }

  /**
   * How the plan reads audit_logs: through which index, whether it searches that index (rather than
   * scanning the table or a whole index) and whether it sorts apart.
   */
  async function plan(
    sql: string,
    params: unknown[],
  ): Promise<{ index: string | null; search: boolean; filesort: boolean }> {
    if (t.db === 'mysql') {
      const rows: { table: string; key: string | null; type: string; Extra: string | null }[] =
        await ds.query(`EXPLAIN ${sql}`, params);
      const row = rows.find((r) => r.table === 'a') ?? rows[0];
      return {
        index: row.key,
        search: !['ALL', 'index'].includes(row.type),
        filesort: /filesort/i.test(row.Extra ?? ''),
      };
    }
    const rows: { detail: string }[] = await ds.query(`EXPLAIN QUERY PLAN ${sql}`, params);
    const details = rows.map((r) => r.detail).join(' | ');
    const m = /(SEARCH|SCAN) \S+ USING (?:COVERING )?INDEX (\w+)/.exec(details);
    return { index: m?.[2] ?? null, search: m?.[1] === 'SEARCH', filesort: /TEMP B-TREE/.test(details) };
  }

  it.each([
    ['event_type=LOGIN_FAILURE', 'ix_audit_logs_event'],
    ['success=false', 'ix_audit_logs_success'],
    ['actor_user_id=1007', 'ix_audit_logs_actor'],
    ['target_user_id=1011', 'ix_audit_logs_target'],
    ['actor_username=user1013', 'ix_audit_logs_actor_name'],
    ['from=2026-01-02T00:00&to=2026-01-02T06:00', 'ix_audit_logs_created'],
  ])('%s: the page reads %s in order; the count searches an index', async (query, index) => {
    const queries = await queriesOf(query);
    const page = queries.find((q) => /ORDER BY/i.test(q.sql));
    if (!page) throw new Error(`no page query seen for ${query}`);
    expect({ query, ...(await plan(page.sql, page.params)) }).toEqual({
      query,
      index,
      search: true,
      filesort: false,
    });
    // the count (TypeORM leaves it out when the page is the whole result)
    for (const q of queries.filter((x) => x !== page)) {
      const p = await plan(q.sql, q.params);
      expect({ query, sql: q.sql, search: p.search, indexed: p.index !== null }).toEqual({
        query,
        sql: q.sql,
        search: true,
        indexed: true,
      });
    }
  });
});
