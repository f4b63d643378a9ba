import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../app.factory';
import { loadConfig } from '../config/app-config';
import { buildOpenApiDocument } from '../openapi';

/**
 * Writes openapi.json from the built app (so the Swagger CLI plugin's schemas are in it), or with
 * --check fails when the committed file is stale. Runs on an in-memory SQLite; touches nothing else.
 */
async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DB_TYPE: 'sqlite',
    SQLITE_PATH: ':memory:',
    JWT_SECRET_KEY: 'openapi-generation-only-secret-0123456789',
  });
  const app = await createApp(config);
  const doc = buildOpenApiDocument(app, config.version);
  await app.close();
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  const file = join(__dirname, '..', '..', '..', 'openapi.json');
  if (check) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      /* missing counts as stale */
    }
    if (current !== text) {
      console.error('openapi.json is stale: run `npm run openapi` and commit the result.');
      process.exit(1);
    }
    console.log('openapi.json is up to date');
    return;
  }
  writeFileSync(file, text);
  console.log(`wrote ${file}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
