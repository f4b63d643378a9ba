import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module';
import { AdminBootstrapService } from '../auth/admin-bootstrap.service';
import {
  adminPasswordFromEnv,
  adminUserNameFromEnv,
  ConfigError,
  loadConfigFromProcess,
} from '../config/app-config';

/**
 * `npm run admin:create -- <user_name>` creates the first admin (or promotes an existing user).
 * The password is read from ADMIN_PASSWORD or from standard input, never from the command line.
 */
async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password (input is visible; prefer piping it): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

async function main(): Promise<void> {
  const config = loadConfigFromProcess();
  const userName = process.argv[2] ?? adminUserNameFromEnv() ?? '';
  if (!userName)
    throw new ConfigError(
      'usage: npm run admin:create -- <user_name>  (password from ADMIN_PASSWORD or stdin)',
    );
  const password = adminPasswordFromEnv() ?? (await readStdin());
  const app = await NestFactory.createApplicationContext(
    AppModule.forRoot({ ...config, adminBootstrap: null, logLevel: 'silent' }),
    { logger: ['error'] },
  );
  try {
    const outcome = await app.get(AdminBootstrapService).createOrPromote(userName, password, 'cli');
    console.log(`admin "${userName}" ${outcome}`);
  } finally {
    await app.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
