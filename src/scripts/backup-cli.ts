import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module';
import { BackupsService } from '../backups/backups.service';
import { AppError } from '../common/errors/app-error';
import { loadConfigFromProcess } from '../config/app-config';

/**
 * `npm run backup` and `npm run restore -- <file> [--force] [--accept-ledger-mismatches]` (a name in
 * BACKUP_DIR or a path): the same service as the admin routes, audited with no actor and `via: cli`.
 * Exits 1 with the reason when refused (e.g. RESTORE_LOSES_FUNDING without --force).
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const acceptLedgerMismatches = args.includes('--accept-ledger-mismatches');
  const force = args.includes('--force');
  const [command, file] = args.filter((a) => !a.startsWith('--'));
  if (command !== 'backup' && command !== 'restore')
    throw new Error('usage: backup-cli backup | restore <file>');
  if (command === 'restore' && !file) throw new Error('usage: npm run restore -- <file>');
  const config = loadConfigFromProcess();
  const app = await NestFactory.createApplicationContext(
    AppModule.forRoot({
      ...config,
      logLevel: 'error',
      adminBootstrap: null,
      scheduler: { ...config.scheduler, enabled: false },
    }),
    { logger: ['error', 'warn'] },
  );
  try {
    const backups = app.get(BackupsService);
    if (command === 'backup') {
      const r = await backups.backup({ actor: null, via: 'cli' });
      const rows = Object.values(r.tables).reduce((a, b) => a + b, 0);
      console.log(
        `Backup ${r.filename} written to ${backups.dir}: ${rows} rows, ${r.sizeBytes} bytes, sha256 ${r.sha256}`,
      );
    } else {
      const r = await backups.restorePath(
        file,
        { actor: null, via: 'cli' },
        { acceptLedgerMismatches, force },
      );
      const rows = Object.values(r.tables).reduce((a, b) => a + b, 0);
      console.log(
        `Restored ${r.filename}: ${rows} rows in ${r.durationMs} ms. The data it replaced is in ${r.safetyBackup}.`,
      );
      for (const f of r.fundingAfterBackup)
        console.log(
          `Undone in the books (--force): ${f.kind.toLowerCase()} #${f.id} of ${f.amount} ${f.currency} for user ${f.userId}`,
        );
      if (r.ledgerMismatches > 0)
        console.log(
          `Warning: ${r.ledgerMismatches} ledger invariant(s) fail on the restored data (accepted).`,
        );
    }
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    console.error(`${err.code}: ${err.message}`);
    for (const d of err.details ?? []) console.error(`  ${d.field}: ${d.message}`);
    process.exitCode = 1;
  } finally {
    await app.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
