import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { BackupsService } from '../src/backups/backups.service';
import { MaintenanceState } from '../src/common/maintenance';
import { createAdmin, createUser, login, type TestUser } from './factories/users';
import { type Res, startTestApp, type TestApp } from './test-app';

jest.setTimeout(180_000);

/** SHA-256 per table over its rows in primary-key order, computed here from the database itself. */
async function digests(
  t: TestApp,
  opts: { auditUpTo?: number; sessions?: boolean } = {},
): Promise<Record<string, string>> {
  const ds = t.app.get(DataSource);
  const out: Record<string, string> = {};
  for (const meta of ds.entityMetadatas) {
    if (meta.tableName === 'scheduler_leases') continue; // runtime state, not backed up (see the README)
    // not backed up: a restore moves it (every instance then reloads the live reference in full)
    if (meta.tableName === 'reference_epoch') continue;
    // backed up and restored like any table, but every instance adds to it in the background each
    // minute while a reference is published (what it published): it moves between any two reads
    if (meta.tableName === 'reference_history') continue;
    // a restore ends every session (they are in the file, but not brought back)
    if (opts.sessions === false && ['auth_sessions', 'refresh_tokens'].includes(meta.tableName)) continue;
    const pk = meta.primaryColumns.map((c) => c.databaseName).join(', ');
    const where =
      meta.tableName === 'audit_logs' && opts.auditUpTo !== undefined ? `WHERE id <= ${opts.auditUpTo}` : '';
    const rows: Record<string, unknown>[] = await ds.query(
      `SELECT * FROM ${meta.tableName} ${where} ORDER BY ${pk}`,
    );
    const h = createHash('sha256');
    for (const r of rows) {
      h.update(JSON.stringify(r, (_k, v: unknown) => (v instanceof Date ? v.toISOString() : v)));
      h.update('\n');
    }
    out[meta.tableName] = `${rows.length}:${h.digest('hex')}`;
  }
  return out;
}

/** Recomputes every table checksum and the file checksum of an edited backup (a forger's work). */
function rehash(text: string): string {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let rows: string[] | null = null;
  for (let i = 0; i < lines.length - 1; i++) {
    if (lines[i].endsWith('"rows":[')) rows = [];
    else if (rows && lines[i].startsWith('],"row_count":')) {
      const h = createHash('sha256');
      for (const r of rows) h.update(`${r}\n`);
      lines[i] = lines[i].replace(/"sha256":"[0-9a-f]+"/, `"sha256":"${h.digest('hex')}"`);
      rows = null;
    } else if (rows) rows.push(lines[i].endsWith(',') ? lines[i].slice(0, -1) : lines[i]);
  }
  const body = `${lines.slice(0, -1).join('\n')}\n`;
  return `${body}"sha256":"${createHash('sha256').update(body).digest('hex')}"}\n`;
}

async function maxAuditId(t: TestApp): Promise<number> {
  const rows: { n: unknown }[] = await t.app.get(DataSource).query('SELECT MAX(id) AS n FROM audit_logs');
  return Number(rows[0]?.n ?? 0);
}

describe('backups and restore', () => {
  let t: TestApp;
  let dir: string;
  let admin: TestUser;
  let users: TestUser[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'backups-e2e-'));
    t = await startTestApp({
      BACKUP_DIR: dir,
      BACKUP_KEEP: '3',
      STARTING_BALANCE_USD: '1000',
      STARTING_BALANCE_LBP: '90000000',
      OFFER_RATE_LIMIT: '100000',
      TRANSACTION_RATE_LIMIT: '100000',
    });
    admin = await createAdmin(t);
    users = [await createUser(t), await createUser(t), await createUser(t)];
    const [a, b, c] = users;
    // a varied database: transactions, offers (open, taken, cancelled), trades, alerts, watchlist, notes
    for (let i = 0; i < 6; i++) {
      await t.request('POST', '/transaction', {
        token: a.access,
        body: { usd_amount: 10 + i, lbp_amount: (10 + i) * 89500, usd_to_lbp: i % 2 === 0 },
      });
    }
    const mk = async (u: TestUser, body: Record<string, unknown>) =>
      (await t.request('POST', '/market/offers', { token: u.access, body })).json<{ id: number }>().id;
    const usd = { give_currency: 'USD', give_amount: 100, want_currency: 'LBP', want_amount: 8950000 };
    const o1 = await mk(a, { ...usd, min_fill_amount: 10 });
    await mk(b, { give_currency: 'LBP', give_amount: 895000, want_currency: 'USD', want_amount: 10 });
    const o3 = await mk(c, usd);
    await t.request('POST', `/market/offers/${o1}/accept`, { token: b.access, body: { amount: 30 } });
    await t.request('POST', `/market/offers/${o3}/accept`, { token: a.access });
    await t.request('DELETE', `/market/offers/${o1}`, { token: a.access });
    await t.request('POST', '/alerts', {
      token: b.access,
      body: { direction: 'usd_to_lbp', condition: 'above', threshold: 1e6 },
    });
    await t.request('POST', '/watchlist', {
      token: c.access,
      body: { item_type: 'direction', direction: 'lbp_to_usd' },
    });
    await t.request('PUT', '/preferences', { token: c.access, body: { default_range_hours: 24 } });
    await t.request('POST', '/admin/rates', {
      token: admin.access,
      body: { direction: 'usd_to_lbp', rate: 89600 },
    });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const backup = (token = admin.access): Promise<Res> => t.request('POST', '/admin/backup', { token });
  const restore = (body?: unknown, token = admin.access): Promise<Res> =>
    t.request('POST', '/admin/restore', { token, body });
  const files = () => readdirSync(dir).sort();
  const relogin = (list: TestUser[]): Promise<TestUser[]> =>
    Promise.all(list.map(async (u) => ({ ...u, ...(await login(t, u.userName, u.password)) })));

  it('writes a complete, checksummed JSON backup and lists it', async () => {
    const res = await backup();
    expect(res.statusCode).toBe(201);
    const b = res.json();
    expect(b).toMatchObject({
      message: 'Backup created',
      filename: expect.stringMatching(/^backup_\d{8}_\d{6}_\d{3}\.json$/),
      size_bytes: expect.any(Number),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(b.tables).toMatchObject({ users: 4, offers: 3, trades: 2, transactions: 6 });
    expect(b.tables).not.toHaveProperty('scheduler_leases');
    expect(b.tables).not.toHaveProperty('reference_epoch');
    const text = readFileSync(join(dir, b.filename), 'utf8');
    expect(statSync(join(dir, b.filename)).mode & 0o077).toBe(0); // owner-only
    expect(Buffer.byteLength(text)).toBe(b.size_bytes);
    const doc = JSON.parse(text); // one valid JSON document
    expect(doc).toMatchObject({
      format: 'exchange-rate-api-backup',
      format_version: 1,
      app_version: expect.any(String),
    });
    expect(doc.schema_version).toMatch(/^[A-Za-z]+\d+$/);
    const users = doc.tables.find((x: { name: string }) => x.name === 'users');
    expect(users.row_count).toBe(4);
    const rowsHash = createHash('sha256');
    for (const r of users.rows) rowsHash.update(`${JSON.stringify(r)}\n`);
    expect(users.sha256).toBe(rowsHash.digest('hex'));
    const lastLine = text.trimEnd().split('\n').pop() ?? '';
    expect(
      createHash('sha256')
        .update(text.slice(0, text.length - lastLine.length - 1))
        .digest('hex'),
    ).toBe(b.sha256);
    expect(files().filter((f) => f.endsWith('.partial'))).toEqual([]);
    const status = (await t.request('GET', '/admin/backup/status', { token: admin.access })).json();
    expect(status).toMatchObject({
      available_backups: 1,
      last_backup: b.filename,
      last_backup_at: b.created_at,
      backups: [{ filename: b.filename, kind: 'backup' }],
    });
    expect(typeof status.last_backup).toBe('string');
    expect(status.total_size).toMatch(/^\d+(\.\d)? (B|KB|MB)$/);
    const logs = await t.request('GET', `/admin/logs?event_type=BACKUP_CREATE&actor_user_id=${admin.id}`, {
      token: admin.access,
    });
    const row = logs.json().logs[0];
    expect(row).toMatchObject({
      success: true,
      status_code: 201,
      http_method: 'POST',
      path: '/admin/backup',
    });
    expect(JSON.parse(row.metadata_json)).toMatchObject({
      filename: b.filename,
      duration_ms: expect.any(Number),
      table_rows: expect.arrayContaining(['users=4', `refresh_tokens=${b.tables.refresh_tokens}`]),
    });
  });

  it('round trip: back up, change and wipe everything, restore → every table identical, ledger ok, old passwords work', async () => {
    const before = await digests(t, { sessions: false });
    const auditBefore = await maxAuditId(t);
    const epoch = async (): Promise<string | undefined> => {
      const rows = await t.app
        .get(DataSource)
        .query<{ epoch: string }[]>('SELECT epoch FROM reference_epoch');
      return rows[0]?.epoch;
    };
    const epochBefore = await epoch();
    const b = (await backup()).json();
    // change things through the API, then wipe every table outright
    await t.request('POST', '/transaction', {
      token: users[0].access,
      body: { usd_amount: 5, lbp_amount: 447500, usd_to_lbp: true },
    });
    await createUser(t);
    const ds = t.app.get(DataSource);
    for (const meta of [...ds.entityMetadatas].reverse()) {
      if (meta.tableName !== 'scheduler_leases') await ds.query(`DELETE FROM ${meta.tableName}`);
    }
    const r = await t.app.get(BackupsService).restoreByName(b.filename, { actor: null, via: 'cli' });
    expect(r.tables).toEqual(b.tables);
    expect(r.safetyBackup).toMatch(/^safety_/);
    const after = await digests(t, { auditUpTo: auditBefore, sessions: false });
    expect(after).toEqual(before);
    // the reference epoch moved: every instance reloads the restored samples in full
    expect(await epoch()).toEqual(expect.any(String));
    expect(await epoch()).not.toBe(epochBefore);
    const extra: { event_type: string; success: number | boolean }[] = await ds.query(
      `SELECT event_type, success FROM audit_logs WHERE id > ${auditBefore} ORDER BY id`,
    );
    expect(extra.map((e) => [e.event_type, Boolean(e.success)])).toEqual([['BACKUP_RESTORE', true]]);
    // every session ended with the restore; the old passwords work
    expect((await t.request('GET', '/whoami', { token: users[0].access })).statusCode).toBe(401);
    users = await relogin(users);
    const fresh = await login(t, admin.userName, admin.password);
    const verify = await t.request('GET', '/admin/ledger/verify', { token: fresh.access });
    expect(verify.json()).toMatchObject({ ok: true, mismatches: [] });
    // counters came back: a new user gets the next id after the restored ones, no collision
    const next = await createUser(t);
    expect(next.id).toBeGreaterThan(Math.max(...users.map((u) => u.id), admin.id));
    admin = { ...admin, ...fresh };
  });

  it('POST /admin/restore without a filename restores the newest backup and undoes later changes', async () => {
    const b = (await backup()).json();
    const before = await digests(t, { sessions: false });
    const auditBefore = await maxAuditId(t);
    const u = users[1];
    await t.request('POST', '/transaction', {
      token: u.access,
      body: { usd_amount: 1, lbp_amount: 89500, usd_to_lbp: true },
    });
    const res = await restore();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      message: 'Restore completed',
      filename: b.filename,
      safety_backup: expect.stringMatching(/^safety_/),
    });
    const after = await digests(t, { auditUpTo: auditBefore, sessions: false });
    expect(after).toEqual(before);
    // the audit trail only grows: the refused-transaction-era rows written after the backup are kept
    const kept: { n: unknown }[] = await t.app
      .get(DataSource)
      .query(
        `SELECT COUNT(*) AS n FROM audit_logs WHERE id > ${auditBefore} AND event_type = 'TRANSACTION_CREATE'`,
      );
    expect(Number(kept[0].n)).toBe(1);
    admin = { ...admin, ...(await login(t, admin.userName, admin.password)) };
    users = await relogin(users);
    const logs = await t.request('GET', `/admin/logs?event_type=BACKUP_RESTORE&success=true`, {
      token: admin.access,
    });
    expect(JSON.parse(logs.json().logs[0].metadata_json)).toMatchObject({
      filename: b.filename,
      via: 'http',
    });
  });

  it("restoring another database's audit trail loses no entry of either, and twice adds nothing twice", async () => {
    const name = (await backup()).json().filename as string;
    const lines = readFileSync(join(dir, name), 'utf8').split('\n');
    const start = lines.findIndex((l) => l.startsWith('{"name":"audit_logs"'));
    const columns = (JSON.parse(`${lines[start].slice(0, -',"rows":['.length)}}`) as { columns: string[] })
      .columns;
    const [id, action] = [columns.indexOf('id'), columns.indexOf('action')];
    expect(action).toBeGreaterThan(0);
    // the file's first two audit rows are another database's entries under ids this trail also
    // uses: one quite different, one that differs from ours only in case (MySQL's text comparison
    // would call them equal)
    const rowAt = (i: number) => JSON.parse(lines[start + i].replace(/,$/, '')) as unknown[];
    const row = rowAt(1);
    const taken = Number(row[id]);
    row[action] = 'an entry of another database';
    lines[start + 1] = `${JSON.stringify(row)},`;
    const second = rowAt(2);
    const shouted = String(second[action]).toUpperCase();
    expect(shouted).not.toBe(second[action]);
    second[action] = shouted;
    lines[start + 2] = `${JSON.stringify(second)},`;
    writeFileSync(join(dir, 'backup_foreign.json'), rehash(lines.join('\n')));
    const ds = t.app.get(DataSource);
    const actionOf = async (n: number) =>
      (await ds.query<{ action: string }[]>(`SELECT action FROM audit_logs WHERE id = ${n}`))[0]?.action;
    const mine = await actionOf(taken);
    const foreign = async () =>
      (await ds.query<{ id: unknown; action: string }[]>('SELECT id, action FROM audit_logs')).filter(
        (r) => r.action === 'an entry of another database' || r.action === shouted,
      );
    const renumbered = async () => {
      const logs = await t.request('GET', `/admin/logs?event_type=BACKUP_RESTORE&success=true`, {
        token: admin.access,
      });
      return JSON.parse(logs.json().logs[0].metadata_json).audit_rows_renumbered as number;
    };

    const auditBefore = await maxAuditId(t);
    const digestBefore = (await digests(t, { auditUpTo: auditBefore })).audit_logs;
    expect((await restore({ filename: 'backup_foreign.json' })).statusCode).toBe(200);
    admin = { ...admin, ...(await login(t, admin.userName, admin.password)) };
    // this trail's own rows are all there, unchanged; the other entry is there too, under a new id
    expect((await digests(t, { auditUpTo: auditBefore })).audit_logs).toBe(digestBefore);
    expect(await actionOf(taken)).toBe(mine);
    const copies = await foreign();
    expect(copies).toHaveLength(2);
    for (const copy of copies) expect(Number(copy.id)).toBeGreaterThan(auditBefore);
    expect(await renumbered()).toBe(2);

    // the same file again: the other entries are found under their new ids, not added twice
    expect((await restore({ filename: 'backup_foreign.json' })).statusCode).toBe(200);
    admin = { ...admin, ...(await login(t, admin.userName, admin.password)) };
    expect(await foreign()).toHaveLength(2);
    expect(await renumbered()).toBe(0);
    users = await relogin(users);
  });

  describe('refusals change nothing', () => {
    let good: string;
    let text: string;

    beforeAll(async () => {
      good = (await backup()).json().filename;
      text = readFileSync(join(dir, good), 'utf8');
    });

    const refuse = async (name: string, content: string | null, status: number, code: string) => {
      if (content !== null) writeFileSync(join(dir, name), content);
      const before = await digests(t);
      const filesBefore = files();
      const res = await restore({ filename: name });
      expect([res.statusCode, res.json().code]).toEqual([status, code]);
      expect(res.json().error).toEqual(expect.any(String));
      // audit_logs gains the refusal's own row; every other table is untouched
      const withoutAudit = (d: Record<string, string>) => ({ ...d, audit_logs: undefined });
      expect(withoutAudit(await digests(t))).toEqual(withoutAudit(before));
      expect(files()).toEqual(filesBefore); // no safety backup either
      return res;
    };

    it('a truncated file', async () => {
      await refuse(
        'backup_truncated.json',
        text.slice(0, Math.floor(text.length * 0.6)),
        422,
        'BACKUP_INVALID',
      );
      await refuse('backup_cut_end.json', text.slice(0, text.length - 3), 422, 'BACKUP_INVALID');
    });

    it('one byte changed', async () => {
      const flip = (at: number) => text.slice(0, at) + (text[at] === 'a' ? 'b' : 'a') + text.slice(at + 1);
      // inside a row (the JSON stays valid: the table checksum catches it)
      await refuse('backup_row.json', flip(text.indexOf(admin.userName) + 2), 422, 'BACKUP_INVALID');
      // in the header (only the file checksum covers it)
      await refuse('backup_header.json', flip(text.indexOf('"app_version"') + 2), 422, 'BACKUP_INVALID');
      // a digit of a row
      const j = text.indexOf('\n[') + 2;
      const digit = text.slice(0, j) + (text[j] === '9' ? '8' : '9') + text.slice(j + 1);
      await refuse('backup_digit.json', digit, 422, 'BACKUP_INVALID');
      // the checksum line itself
      const k = text.lastIndexOf('"sha256":"') + 12;
      await refuse(
        'backup_sum.json',
        text.slice(0, k) + (text[k] === '0' ? '1' : '0') + text.slice(k + 1),
        422,
        'BACKUP_INVALID',
      );
    });

    it('another format version, another schema version, not a backup at all', async () => {
      await refuse(
        'backup_v2.json',
        text.replace('"format_version":1', '"format_version":2'),
        422,
        'BACKUP_FORMAT_UNSUPPORTED',
      );
      const res = await refuse(
        'backup_schema.json',
        text.replace(/"schema_version":"[^"]+"/, '"schema_version":"1700000000000-Old"'),
        422,
        'BACKUP_SCHEMA_MISMATCH',
      );
      expect(res.json().error).toContain('1700000000000-Old');
      await refuse('backup_other.json', '{"hello":"world"}\n', 422, 'BACKUP_INVALID');
    });

    it('content after the end, and rows whose foreign keys name nothing (checksums recomputed)', async () => {
      await refuse('backup_junk.json', `${text}{"more":1}\n`, 422, 'BACKUP_INVALID');
      expect(rehash(text)).toBe(text); // the helper recomputes exactly what the server wrote
      const lines = text.split('\n');
      const start = lines.findIndex((l) => l.startsWith('{"name":"user_preferences"'));
      expect(lines[start + 1]).toMatch(/^\[\d+,/);
      lines[start + 1] = lines[start + 1].replace(/^\[\d+,/, '[999999,');
      const res = await refuse(
        'backup_orphan.json',
        rehash(lines.join('\n')),
        422,
        'RESTORE_VERIFICATION_FAILED',
      );
      expect(res.json().details).toEqual(
        expect.arrayContaining([expect.objectContaining({ field: 'user_preferences' })]),
      );
    });

    it('paths and missing files', async () => {
      for (const name of [
        '../../etc/passwd',
        '../backups/x.json',
        '/etc/passwd',
        'a/b.json',
        '..json',
        '.hidden.json',
      ]) {
        await refuse(name, null, 400, 'VALIDATION_FAILED');
      }
      await refuse('backup_missing.json', null, 404, 'BACKUP_NOT_FOUND');
      const logs = await t.request('GET', '/admin/logs?event_type=BACKUP_RESTORE&success=false&limit=200', {
        token: admin.access,
      });
      expect(logs.json().total).toBeGreaterThanOrEqual(8);
    });
  });

  it('a backup whose ledger is inconsistent is rolled back (no file left), unless accept_ledger_mismatches', async () => {
    const ds = t.app.get(DataSource);
    const victim = users[0];
    const usdOf = async () =>
      Number((await ds.query(`SELECT usd_available AS v FROM wallets WHERE user_id = ${victim.id}`))[0].v);
    const good = await usdOf();
    await ds.query(`UPDATE wallets SET usd_available = usd_available + 1 WHERE user_id = ${victim.id}`);
    const bad = (await backup()).json().filename as string;
    await ds.query(`UPDATE wallets SET usd_available = usd_available - 1 WHERE user_id = ${victim.id}`);
    const before = await digests(t);
    const filesBefore = files();
    const refused = await restore({ filename: bad });
    expect([refused.statusCode, refused.json().code]).toEqual([422, 'RESTORE_VERIFICATION_FAILED']);
    expect(refused.json().details).toEqual([expect.objectContaining({ field: 'ledger' })]);
    expect({ ...(await digests(t)), audit_logs: undefined }).toEqual({ ...before, audit_logs: undefined });
    expect(files()).toEqual(filesBefore);
    const forced = await restore({ filename: bad, accept_ledger_mismatches: true });
    expect(forced.statusCode).toBe(200);
    expect(forced.json().ledger_mismatches).toBeGreaterThan(0);
    expect(await usdOf()).toBe(good + 1); // the backup's (inconsistent) data, as it was
    // put the ledger right again for the tests after this one
    await ds.query(`UPDATE wallets SET usd_available = usd_available - 1 WHERE user_id = ${victim.id}`);
    admin = { ...admin, ...(await login(t, admin.userName, admin.password)) };
    users = await relogin(users);
    const ok = await t.request('GET', '/admin/ledger/verify', { token: admin.access });
    expect(ok.json().ok).toBe(true);
  });

  it('a restore puts the instance in maintenance: other requests get 503 MAINTENANCE, /health still answers', async () => {
    const state = t.app.get(MaintenanceState);
    let release: () => void = () => undefined;
    const held = state.during(() => new Promise<void>((r) => (release = r)));
    try {
      const res = await t.request('GET', '/wallet', { token: users[0].access });
      expect([res.statusCode, res.json().code, res.headers['retry-after']]).toEqual([
        503,
        'MAINTENANCE',
        '30',
      ]);
      expect(res.json().error).toEqual(expect.any(String));
      expect((await t.request('GET', '/health')).statusCode).toBe(200);
    } finally {
      release();
      await held;
    }
    expect((await t.request('GET', '/wallet', { token: users[0].access })).statusCode).toBe(200);
    const spy = jest.spyOn(state, 'during');
    expect((await backup()).statusCode).toBe(201);
    expect((await restore()).statusCode).toBe(200);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    admin = { ...admin, ...(await login(t, admin.userName, admin.password)) };
    users = await relogin(users);
  });

  it('refuses non-admins and non-fresh admin tokens', async () => {
    const u = users[2];
    expect((await backup(u.access)).statusCode).toBe(403);
    expect((await restore({}, u.access)).statusCode).toBe(403);
    expect((await t.request('GET', '/admin/backup/status', { token: u.access })).statusCode).toBe(403);
    const refreshed = await t.request('POST', '/refresh', { token: admin.refresh });
    const stale = refreshed.json().access_token as string;
    expect((await backup(stale)).json().code).toBe('FRESH_TOKEN_REQUIRED');
    expect((await restore({}, stale)).json().code).toBe('FRESH_TOKEN_REQUIRED');
    expect((await t.request('POST', '/admin/backup')).statusCode).toBe(401);
  });

  it('keeps BACKUP_KEEP backups of each kind, and removes temporary files a dead writer left', async () => {
    const stale = join(dir, '.backup_20000101T000000000Z.json.partial');
    const fresh = join(dir, '.backup_20000102T000000000Z.json.partial');
    writeFileSync(stale, '{"format"');
    writeFileSync(fresh, '{"format"');
    utimesSync(stale, new Date(Date.now() - 2 * 3_600_000), new Date(Date.now() - 2 * 3_600_000));
    for (let i = 0; i < 4; i++) expect((await backup()).statusCode).toBe(201);
    const status = (await t.request('GET', '/admin/backup/status', { token: admin.access })).json();
    const kinds = status.backups.map((f: { kind: string }) => f.kind);
    expect(kinds.filter((k: string) => k === 'backup')).toHaveLength(3);
    expect(kinds.filter((k: string) => k === 'safety').length).toBeLessThanOrEqual(3);
    expect(files()).not.toContain('.backup_20000101T000000000Z.json.partial');
    expect(files()).toContain('.backup_20000102T000000000Z.json.partial'); // may be being written
    rmSync(fresh);
  });
  it('a refused restore prunes no safety backup (KEEP of them already there) and leaves no file', async () => {
    const ds = t.app.get(DataSource);
    const victim = users[0];
    for (const n of [1, 2, 3]) writeFileSync(join(dir, `safety_2000010${n}T000000000Z_old.json`), '{}\n');
    await ds.query(`UPDATE wallets SET usd_available = usd_available + 1 WHERE user_id = ${victim.id}`);
    const bad = (await backup()).json().filename as string;
    await ds.query(`UPDATE wallets SET usd_available = usd_available - 1 WHERE user_id = ${victim.id}`);
    const filesBefore = files();
    expect(filesBefore.filter((f) => f.startsWith('safety_')).length).toBeGreaterThanOrEqual(3);
    const refused = await restore({ filename: bad }); // refused after its safety backup was written
    expect([refused.statusCode, refused.json().code]).toEqual([422, 'RESTORE_VERIFICATION_FAILED']);
    expect(files()).toEqual(filesBefore);
  });
  it('an internal failure of a backup (not a refusal) is audited once, not also by the interceptor', async () => {
    const failures = async () =>
      (
        await t.request('GET', '/admin/logs?event_type=BACKUP_CREATE&success=false&limit=200', {
          token: admin.access,
        })
      ).json().total as number;
    const before = await failures();
    const service: { writeBackup: () => Promise<unknown> } = t.app.get(BackupsService, { strict: false });
    const spy = jest.spyOn(service, 'writeBackup').mockRejectedValue(new Error('ENOSPC: no space left'));
    try {
      const res = await backup();
      expect([res.statusCode, res.json().code]).toEqual([500, 'INTERNAL_ERROR']);
    } finally {
      spy.mockRestore();
    }
    expect(await failures()).toBe(before + 1);
  });
});

describe('a restore cannot silently undo money that left', () => {
  let t: TestApp;
  let dir: string;
  let admin: TestUser;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'backups-funding-e2e-'));
    t = await startTestApp({ BACKUP_DIR: dir, FUNDING_RATE_LIMIT: '100000' });
    admin = await createAdmin(t);
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const wallet = async (u: TestUser) => (await t.request('GET', '/wallet', { token: u.access })).json();
  const deposit = async (u: TestUser, amount: number): Promise<number> => {
    const d = await t.request('POST', '/wallet/deposits', {
      token: u.access,
      body: { currency: 'USD', amount },
    });
    expect(
      (await t.request('POST', `/admin/deposits/${d.json().id}/confirm`, { token: admin.access })).statusCode,
    ).toBe(200);
    return d.json().id as number;
  };
  const withdraw = async (u: TestUser, amount: number): Promise<number> => {
    const w = await t.request('POST', '/wallet/withdrawals', {
      token: u.access,
      body: { currency: 'USD', amount, destination: 'agent, Hamra street' },
    });
    expect(w.statusCode).toBe(201);
    expect(
      (await t.request('POST', `/admin/withdrawals/${w.json().id}/complete`, { token: admin.access }))
        .statusCode,
    ).toBe(200);
    return w.json().id as number;
  };

  it('409 RESTORE_LOSES_FUNDING lists the withdrawal paid out and the deposit confirmed after the backup; nothing changes', async () => {
    const u = await createUser(t, 'payee');
    await deposit(u, 81);
    const backup = await t.request('POST', '/admin/backup', { token: admin.access });
    expect(backup.statusCode).toBe(201);
    const withdrawalId = await withdraw(u, 50);
    const depositId = await deposit(u, 12.5);
    expect((await wallet(u)).usd_balance).toBe(43.5);
    const files = readdirSync(dir).sort();

    const refused = await t.request('POST', '/admin/restore', {
      token: admin.access,
      body: { filename: backup.json().filename },
    });
    expect([refused.statusCode, refused.json().code]).toEqual([409, 'RESTORE_LOSES_FUNDING']);
    expect(refused.json().error).toMatch(/force/);
    const details = refused
      .json()
      .details.map((d: { message: string }) => d.message)
      .join('\n');
    expect(details).toContain(`withdrawal #${withdrawalId} of 50.00 USD`);
    expect(details).toContain(`deposit #${depositId} of 12.50 USD`);
    // nothing changed: the balance, the sessions, the files (no safety backup)
    expect((await wallet(u)).usd_balance).toBe(43.5);
    expect(readdirSync(dir).sort()).toEqual(files);
    const logs = (
      await t.request('GET', '/admin/logs?event_type=BACKUP_RESTORE&success=false', { token: admin.access })
    ).json();
    expect(logs.logs[0]).toMatchObject({ success: false, status_code: 409 });

    // forced: restored, and the answer says what it undid in the books
    const forced = await t.request('POST', '/admin/restore', {
      token: admin.access,
      body: { filename: backup.json().filename, force: true },
    });
    expect(forced.statusCode).toBe(200);
    expect(forced.json().funding_after_backup).toEqual([
      expect.objectContaining({
        id: withdrawalId,
        kind: 'WITHDRAWAL',
        user_id: u.id,
        currency: 'USD',
        amount: 50,
      }),
      expect.objectContaining({
        id: depositId,
        kind: 'DEPOSIT',
        user_id: u.id,
        currency: 'USD',
        amount: 12.5,
      }),
    ]);
    expect(forced.json().session_kept).toBe(true);
    const again = await login(t, u.userName, u.password);
    expect((await t.request('GET', '/wallet', { token: again.access })).json().usd_balance).toBe(81);
    const audit = (
      await t.request('GET', '/admin/logs?event_type=BACKUP_RESTORE&success=true', { token: admin.access })
    ).json();
    expect(JSON.parse(audit.logs[0].metadata_json)).toMatchObject({ forced: true, session_kept: true });
  });

  it("the restoring admin's session is kept (tokens and refresh), every other one ends", async () => {
    const other = await createAdmin(t);
    const u = await createUser(t, 'plain');
    const backup = await t.request('POST', '/admin/backup', { token: admin.access });
    const restored = await t.request('POST', '/admin/restore', {
      token: admin.access,
      body: { filename: backup.json().filename },
    });
    expect(restored.statusCode).toBe(200);
    expect(restored.json()).toMatchObject({ funding_after_backup: [], session_kept: true });
    expect((await t.request('GET', '/admin/backup/status', { token: admin.access })).statusCode).toBe(200);
    const refreshed = await t.request('POST', '/refresh', { token: admin.refresh, body: {} });
    expect(refreshed.statusCode).toBe(200);
    admin.access = refreshed.json().access_token;
    admin.refresh = refreshed.json().refresh_token;
    expect((await t.request('GET', '/whoami', { token: other.access })).statusCode).toBe(401);
    expect((await t.request('GET', '/whoami', { token: u.access })).statusCode).toBe(401);
    expect((await t.request('POST', '/refresh', { token: u.refresh, body: {} })).statusCode).toBe(401);
    // the restoring admin needs a fresh token for the next restore, as before
    Object.assign(admin, await login(t, admin.userName, admin.password));
  });

  it('an admin who is not an active admin in the backup loses the session too', async () => {
    const before = await t.request('POST', '/admin/backup', { token: admin.access });
    const late = await createAdmin(t); // created after the backup: not in it
    const restored = await t.request('POST', '/admin/restore', {
      token: late.access,
      body: { filename: before.json().filename },
    });
    expect(restored.statusCode).toBe(200);
    expect(restored.json().session_kept).toBe(false);
    expect((await t.request('GET', '/whoami', { token: late.access })).statusCode).toBe(401);
    Object.assign(admin, await login(t, admin.userName, admin.password));
  });
});
