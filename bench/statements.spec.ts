import { signature, typicalList } from './statements';

describe('statement signatures (same-work baselines)', () => {
  it('TypeORM-rendered and hand-written SQL doing the same work compare equal', () => {
    expect(signature('INSERT INTO `transactions`(`id`, `user_id`) VALUES (DEFAULT, ?) RETURNING `id`')).toBe(
      signature('INSERT INTO transactions (user_id) VALUES (?)'),
    );
    expect(signature('START TRANSACTION')).toBe(signature('BEGIN TRANSACTION'));
    expect(
      signature(
        'SELECT `s`.`id` AS `s_id` FROM `auth_sessions` `s` INNER JOIN `users` `u` ON `u`.`id` = `s`.`user_id` WHERE `s`.`id` = ?',
      ),
    ).toBe('SELECT auth_sessions,users');
  });

  it('tells apart what differs in work: rows, upserts, locks, tables, verbs', () => {
    expect(signature('INSERT INTO ledger_entries (a) VALUES (?), (?), (?), (?)')).toBe(
      'INSERT ledger_entries x4',
    );
    expect(signature('INSERT INTO "n"("a") VALUES (DEFAULT, ?)')).toBe('INSERT n');
    expect(signature('INSERT INTO rate_hourly (a) VALUES (?) ON DUPLICATE KEY UPDATE a = a + 1')).toBe(
      'UPSERT rate_hourly',
    );
    expect(signature('INSERT INTO rate_hourly (a) VALUES (?) ON CONFLICT (a) DO UPDATE SET a = 1')).toBe(
      'UPSERT rate_hourly',
    );
    expect(signature('SELECT * FROM offers WHERE id = ? FOR UPDATE')).toBe('SELECT offers FOR UPDATE');
    expect(signature('SELECT * FROM offers WHERE id = ?')).toBe('SELECT offers');
    expect(signature('UPDATE `wallets` SET a = a + ?')).toBe('UPDATE wallets');
    expect(signature('DELETE FROM stream_tickets WHERE id = ?')).toBe('DELETE stream_tickets');
  });

  it('the typical list is the most frequent one', () => {
    const a = ['START TRANSACTION', 'COMMIT'];
    const b = ['SELECT 1'];
    expect(typicalList([a, b, a])).toEqual({ list: ['BEGIN', 'COMMIT'], count: 2, of: 3 });
  });
});
