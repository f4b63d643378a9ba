/**
 * What "the same statements" means for the benchmark's same-work baselines: each SQL statement
 * reduced to what it does to which tables (verb, tables, row count of an insert, an upsert, a
 * row lock), so our TypeORM-rendered SQL and a baseline's hand-written SQL compare equal exactly
 * when they do the same work in the same order.
 */

/** Top-level parenthesised groups after VALUES (the rows of a multi-row insert). */
function valueRows(sql: string): number {
  const at = sql.search(/\bVALUES\b/i);
  if (at < 0) return 0;
  let depth = 0;
  let rows = 0;
  for (let i = at; i < sql.length; i++) {
    const c = sql[i];
    if (c === '(') {
      if (depth === 0) rows += 1;
      depth += 1;
    } else if (c === ')') depth -= 1;
    else if (depth === 0 && /\b(ON|RETURNING)\b/i.test(sql.slice(i, i + 10)) && rows > 0) break;
  }
  return rows;
}

export function signature(rawSql: string): string {
  const sql = rawSql.replace(/[`"]/g, '').replace(/\s+/g, ' ').trim();
  const up = sql.toUpperCase();
  if (/^(START TRANSACTION|BEGIN)\b/.test(up)) return 'BEGIN';
  if (/^COMMIT\b/.test(up)) return 'COMMIT';
  if (/^ROLLBACK\b/.test(up)) return 'ROLLBACK';
  let m = /^INSERT (?:IGNORE |OR IGNORE )?INTO (\w+)/i.exec(sql);
  if (m) {
    const upsert = /\bON (DUPLICATE KEY UPDATE|CONFLICT)\b/i.test(sql);
    const rows = valueRows(sql);
    return `${upsert ? 'UPSERT' : 'INSERT'} ${m[1].toLowerCase()}${rows > 1 ? ` x${rows}` : ''}`;
  }
  m = /^UPDATE (\w+)/i.exec(sql);
  if (m) return `UPDATE ${m[1].toLowerCase()}`;
  m = /^DELETE FROM (\w+)/i.exec(sql);
  if (m) return `DELETE ${m[1].toLowerCase()}`;
  if (/^SELECT\b/i.test(sql)) {
    const tables = [...sql.matchAll(/\b(?:FROM|JOIN) (\w+)/gi)].map((x) => x[1].toLowerCase());
    const lock = /\bFOR UPDATE\b/i.test(sql) ? ' FOR UPDATE' : '';
    return `SELECT ${[...new Set(tables)].join(',') || '-'}${lock}`;
  }
  return up.split(' ')[0];
}

/** The most frequent statement list among requests of one kind, with how many had it. */
export function typicalList(lists: string[][]): { list: string[]; count: number; of: number } {
  const counts = new Map<string, { list: string[]; n: number }>();
  for (const l of lists) {
    const sig = l.map(signature);
    const key = sig.join('\n');
    const e = counts.get(key) ?? { list: sig, n: 0 };
    e.n += 1;
    counts.set(key, e);
  }
  let best: { list: string[]; n: number } = { list: [], n: 0 };
  for (const e of counts.values()) if (e.n > best.n) best = e;
  return { list: best.list, count: best.n, of: lists.length };
}
