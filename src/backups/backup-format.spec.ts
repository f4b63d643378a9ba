import {
  BackupFormatError,
  type BackupEvent,
  type Cell,
  finalLine,
  headerLine,
  readBackup,
  rowSeparator,
  rowText,
  sha256,
  tableCloseLine,
  tableOpenLine,
  tablesEndLine,
} from './backup-format';

const header = {
  format: 'exchange-rate-api-backup',
  format_version: 1,
  created_at: '2026-11-25T00:00:00.000Z',
  app_version: '0.1.0',
  schema_version: '1-Initial',
  dialect: 'sqlite',
};

/** A file as BackupsService writes it. */
function write(tables: { name: string; rows: Cell[][] }[]): string {
  let out = headerLine(header);
  const counts: Record<string, number> = {};
  tables.forEach((t, i) => {
    out += tableOpenLine({ name: t.name, columns: ['a', 'b'], next_id: null }, i === 0);
    const h = sha256();
    t.rows.forEach((r, j) => {
      h.update(`${rowText(r)}\n`);
      out += rowSeparator(j === 0) + rowText(r);
    });
    out += tableCloseLine({ row_count: t.rows.length, sha256: h.digest('hex') }, t.rows.length > 0);
    counts[t.name] = t.rows.length;
  });
  out += tablesEndLine(counts, tables.length > 0);
  return out + finalLine(sha256().update(out).digest('hex'));
}

async function read(text: string): Promise<BackupEvent[]> {
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  const lines: AsyncIterable<string> = {
    [Symbol.asyncIterator]: () => {
      let i = 0;
      return {
        next: () =>
          Promise.resolve(
            i < parts.length ? { value: parts[i++], done: false } : { value: undefined, done: true },
          ),
      };
    },
  };
  const out: BackupEvent[] = [];
  for await (const ev of readBackup(lines)) out.push(ev);
  return out;
}

describe('backup file layout', () => {
  const sample = [
    { name: 'empty', rows: [] },
    {
      name: 'users',
      rows: [
        [1, 'a,"b"\n'],
        [2, null],
      ] as Cell[][],
    },
    { name: 'one', rows: [[3, true]] as Cell[][] },
  ];

  it('is one valid JSON document', () => {
    const doc = JSON.parse(write(sample));
    expect(doc).toMatchObject({ ...header, table_counts: { empty: 0, users: 2, one: 1 } });
    expect(doc.tables.map((t: { rows: unknown[] }) => t.rows)).toEqual(sample.map((t) => t.rows));
  });

  it('reads back every table and row, with a matching file checksum', async () => {
    const events = await read(write(sample));
    expect(events.map((e) => e.kind)).toEqual([
      'header',
      'table',
      'tableEnd',
      'table',
      'row',
      'row',
      'tableEnd',
      'table',
      'row',
      'tableEnd',
      'end',
    ]);
    const rows = events.flatMap((e) => (e.kind === 'row' ? [e.cells] : []));
    expect(rows).toEqual([
      [1, 'a,"b"\n'],
      [2, null],
      [3, true],
    ]);
    const end = events[events.length - 1];
    expect(end.kind === 'end' && end.computed === end.sha256).toBe(true);
  });

  it('reads a backup without tables', async () => {
    const events = await read(write([]));
    expect(events.map((e) => e.kind)).toEqual(['header', 'end']);
  });

  it('refuses a file cut anywhere', async () => {
    const text = write(sample);
    const cuts = text.split('\n').length;
    for (let keep = 1; keep < cuts - 1; keep++) {
      const cut = text.split('\n').slice(0, keep).join('\n');
      await expect(read(cut)).rejects.toBeInstanceOf(BackupFormatError);
    }
  });

  it('refuses content after the end', async () => {
    await expect(read(`${write(sample)}{"more":1}\n`)).rejects.toBeInstanceOf(BackupFormatError);
  });
});
