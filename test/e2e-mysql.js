#!/usr/bin/env node
// Part of `npm test`: runs the e2e suite again on MariaDB/MySQL when one answers at DB_HOST:DB_PORT
// (default 127.0.0.1:3306, root, empty password). With REQUIRE_MYSQL=true (CI) an unreachable
// server is a failure instead of a skip.
const { spawnSync } = require('node:child_process');
const mysql = require('mysql2/promise');

const host = process.env.DB_HOST || '127.0.0.1';
const port = Number(process.env.DB_PORT || 3306);
const user = process.env.DB_USER || 'root';
const password = process.env.DB_PASSWORD || '';
const required = process.env.REQUIRE_MYSQL === 'true';

async function reachable() {
  try {
    const c = await mysql.createConnection({ host, port, user, password, connectTimeout: 3000 });
    await c.query('SELECT 1');
    await c.end();
    return true;
  } catch (err) {
    console.error(`MariaDB/MySQL at ${host}:${port} is not reachable: ${err.message}`);
    return false;
  }
}

void (async () => {
  if (!(await reachable())) {
    if (required) process.exit(1);
    console.log('Skipping the MariaDB/MySQL e2e run (start MariaDB to include it; CI requires it).');
    return;
  }
  const args = ['jest', '--config', 'jest.config.js', '--selectProjects', 'e2e', ...process.argv.slice(2)];
  const res = spawnSync('npx', args, { stdio: 'inherit', env: { ...process.env, E2E_DB: 'mysql' } });
  process.exit(res.status ?? 1);
})();
