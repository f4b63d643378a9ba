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

  it('API answers carry the strict API security headers and a request id', async () => {
    const res = await t.request('GET', '/health');
    expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toEqual(expect.stringContaining('max-age='));
    expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    // the headers that only mean something for an HTML page are the document set's
    expect(res.headers['x-xss-protection']).toBeUndefined();
    expect(res.headers['cross-origin-opener-policy']).toBeUndefined();
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
  });

  it("Swagger UI's page and assets carry helmet's document headers with a CSP the page runs under", async () => {
    for (const path of ['/docs', '/docs/swagger-ui.css']) {
      const res = await t.request('GET', path);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-security-policy']).toContain("script-src 'self' 'unsafe-inline'");
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
    }
    // the OpenAPI document is JSON like any API answer
    const doc = await t.request('GET', '/docs-json');
    expect(doc.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
  });

  it('refusals carry the security headers and a request id too, also those Fastify makes before routing', async () => {
    const tooLarge = await t.request('POST', '/user', {
      raw: 'x'.repeat(5000),
      headers: { 'content-type': 'application/json' },
    });
    const malformedUrl = await t.request('GET', '/exchangeRate%zz', {
      headers: { 'x-request-id': 'bad-url-1' },
    });
    expect([tooLarge.statusCode, malformedUrl.statusCode]).toEqual([413, 400]);
    expect(malformedUrl.json()).toEqual({ error: expect.any(String), code: 'BAD_REQUEST', statusCode: 400 });
    for (const res of [tooLarge, malformedUrl]) {
      expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
      expect(res.headers['x-request-id']).toEqual(expect.any(String));
    }
    expect(malformedUrl.headers['x-request-id']).toBe('bad-url-1');
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
