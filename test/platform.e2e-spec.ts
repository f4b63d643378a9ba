import { startTestApp, type TestApp } from './test-app';

describe('platform: errors, headers, CORS, health, docs', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ BODY_LIMIT_BYTES: '2048' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('GET /health reports the database up and the version', async () => {
    const res = await t.request('GET', '/health');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', db: 'up', version: expect.any(String) });
  });

  it('unknown routes answer 404 in the contract error shape', async () => {
    const res = await t.request('GET', '/no/such/route');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: expect.any(String), code: 'NOT_FOUND', statusCode: 404 });
  });

  it('a body over the limit is 413 with the error shape', async () => {
    const res = await t.request('POST', '/user', { body: { user_name: 'abc', password: 'x'.repeat(5000) } });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      statusCode: 413,
      error: expect.any(String),
    });
  });

  it('malformed JSON is a 400 without parser internals', async () => {
    const res = await t.request('POST', '/login', {
      raw: '{"user_name":',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ statusCode: 400, error: 'The request body is not valid JSON.' });
    expect(res.body).not.toMatch(/Unexpected|position|SyntaxError/);
  });

  it('an empty JSON body on a body-less route is accepted (browser clients send the header)', async () => {
    const res = await t.request('POST', '/logout', {
      raw: '',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(401); // reaches auth, not a body-parser error
    expect(res.json().code).toBe('UNAUTHORIZED');
  });

  it('sets helmet security headers and a request id', async () => {
    const res = await t.request('GET', '/health');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['strict-transport-security']).toBeDefined();
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
  });

  it('echoes a well-formed X-Request-Id', async () => {
    const res = await t.request('GET', '/health', { headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers['x-request-id']).toBe('abc-123');
  });

  it('CORS allows the dev origin with the contract headers, and refuses others', async () => {
    const ok = await t.request('OPTIONS', '/transaction', {
      headers: {
        origin: 'http://localhost:3000',
        'access-control-request-method': 'DELETE',
        'access-control-request-headers': 'authorization,idempotency-key,content-type',
      },
    });
    expect(ok.statusCode).toBe(204);
    expect(ok.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(String(ok.headers['access-control-allow-methods'])).toContain('DELETE');
    expect(String(ok.headers['access-control-allow-headers']).toLowerCase()).toContain('idempotency-key');

    const simple = await t.request('GET', '/health', { headers: { origin: 'http://127.0.0.1:3000' } });
    expect(String(simple.headers['access-control-expose-headers'])).toContain('X-Total-Count');
    expect(String(simple.headers['access-control-expose-headers'])).toContain('Retry-After');
    expect(String(simple.headers['access-control-expose-headers'])).toContain('Content-Disposition');

    const evil = await t.request('GET', '/health', { headers: { origin: 'http://evil.example' } });
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('serves Swagger UI and the OpenAPI document with the bearer scheme', async () => {
    const ui = await t.request('GET', '/docs');
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger');
    const doc = await t.request('GET', '/docs-json');
    expect(doc.statusCode).toBe(200);
    const json = doc.json();
    expect(json.openapi).toMatch(/^3\./);
    expect(json.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(json.paths['/login']).toBeDefined();
  });
});
