import { ConfigError, DEFAULT_JWT_SECRET, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('has working defaults for a fresh machine', () => {
    const sut = loadConfig({});
    expect(sut.host).toBe('127.0.0.1');
    expect(sut.port).toBe(5000);
    expect(sut.db).toMatchObject({ type: 'sqlite', sqlitePath: 'data/exchange.sqlite', migrationsRun: true });
    expect(sut.bodyLimitBytes).toBe(102400);
    expect(sut.corsOrigins).toEqual(['http://localhost:3000', 'http://127.0.0.1:3000']);
    expect(sut.auth).toMatchObject({
      accessTtlSeconds: 900,
      freshTtlSeconds: 300,
      refreshTtlSeconds: 86400,
      bcryptRounds: 12,
    });
    expect(sut.rateLimit).toMatchObject({
      loginLimit: 5,
      registerLimit: 5,
      refreshLimit: 5,
      authTtlSeconds: 60,
      redisUrl: null,
    });
  });

  it('warns in development about the default JWT secret', () => {
    const sut = loadConfig({ NODE_ENV: 'development' });
    expect(sut.auth.jwtSecret).toBe(DEFAULT_JWT_SECRET);
    expect(sut.warnings.join()).toContain('JWT_SECRET_KEY');
  });

  it.each([[{}], [{ JWT_SECRET_KEY: DEFAULT_JWT_SECRET }], [{ JWT_SECRET_KEY: 'short' }]])(
    'refuses to run in production with a missing, default or weak secret (%p)',
    (extra) => {
      expect(() => loadConfig({ NODE_ENV: 'production', ...extra })).toThrow(ConfigError);
      expect(() => loadConfig({ NODE_ENV: 'production', ...extra })).toThrow(/JWT_SECRET_KEY/);
    },
  );

  it('accepts a strong secret in production', () => {
    const sut = loadConfig({ NODE_ENV: 'production', JWT_SECRET_KEY: 'x'.repeat(40) });
    expect(sut.warnings).toEqual([]);
  });

  it('reads a mysql DATABASE_URL', () => {
    const sut = loadConfig({ DATABASE_URL: 'mysql://app:p%40ss@db.internal:3307/rates' });
    expect(sut.db).toMatchObject({
      type: 'mysql',
      host: 'db.internal',
      port: 3307,
      user: 'app',
      password: 'p@ss',
      name: 'rates',
    });
  });

  it('reads a sqlite DATABASE_URL', () => {
    expect(loadConfig({ DATABASE_URL: 'sqlite://data/x.sqlite' }).db).toMatchObject({
      type: 'sqlite',
      sqlitePath: 'data/x.sqlite',
    });
  });

  it.each([
    [{ PORT: 'abc' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ DB_TYPE: 'postgres' }, /DB_TYPE/],
    [{ MIGRATIONS_RUN: 'maybe' }, /MIGRATIONS_RUN/],
    [{ BCRYPT_ROUNDS: '3' }, /BCRYPT_ROUNDS/],
    [{ DATABASE_URL: 'postgres://x' }, /DATABASE_URL/],
    [{ ADMIN_USER_NAME: 'root' }, /ADMIN_PASSWORD/],
    [{ NODE_ENV: 'staging' }, /NODE_ENV/],
  ])('refuses bad values with a one-line reason: %p', (env, reason) => {
    expect(() => loadConfig(env)).toThrow(reason);
  });

  it('reads DB_CLUSTER_URLS: the nodes in order, MariaDB on the first, DB_NAME unless a URL names one', () => {
    const sut = loadConfig({
      DB_NAME: 'exchange',
      DB_CLUSTER_URLS: 'mysql://app:s%40cret@db1:3307, mysql://app:pw@db2,mysql://app@db3:3309/other',
      DB_FAILOVER_SECONDS: '20',
    });
    expect(sut.db).toMatchObject({ type: 'mysql', host: 'db1', port: 3307, user: 'app', name: 'exchange' });
    expect(sut.db.cluster).toEqual([
      { host: 'db1', port: 3307, user: 'app', password: 's@cret', name: 'exchange' },
      { host: 'db2', port: 3306, user: 'app', password: 'pw', name: 'exchange' },
      { host: 'db3', port: 3309, user: 'app', password: '', name: 'other' },
    ]);
    expect(sut.db.failoverSeconds).toBe(20);
    expect(sut.db.clusterCheckMs).toBe(500);
    expect(loadConfig({}).db.cluster).toEqual([]);
  });

  it('refuses DB_CLUSTER_URLS with read replicas or a sqlite URL', () => {
    expect(() =>
      loadConfig({
        DB_CLUSTER_URLS: 'mysql://db1,mysql://db2',
        DB_REPLICA_URLS: 'mysql://r1',
        DB_TYPE: 'mysql',
      }),
    ).toThrow(ConfigError);
    expect(() => loadConfig({ DB_CLUSTER_URLS: 'mysql://db1,sqlite://x.db' })).toThrow(/mysql:\/\//);
    expect(() => loadConfig({ DB_CLUSTER_URLS: 'mysql://db1', DB_FAILOVER_SECONDS: '0' })).toThrow(
      ConfigError,
    );
  });

  it('splits CORS_ORIGINS and treats empty values as unset', () => {
    const sut = loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example', REDIS_URL: '', PORT: '' });
    expect(sut.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    expect(sut.rateLimit.redisUrl).toBeNull();
    expect(sut.port).toBe(5000);
  });
});

describe('TRUST_PROXY', () => {
  it('accepts false, a hop count or proxy addresses, and refuses blanket trust', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
    ]);
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/forged/);
    expect(() => loadConfig({ TRUST_PROXY: 'proxy.example' })).toThrow(/TRUST_PROXY/);
  });
});
