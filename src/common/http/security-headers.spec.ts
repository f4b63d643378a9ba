import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import helmet, { type HelmetOptions } from 'helmet';
import { API_SECURITY, DOCUMENT_SECURITY, securityHeaders, securityHeadersByPath } from './security-headers';

const OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: {
      defaultSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      frameAncestors: ["'none'"],
      upgradeInsecureRequests: null,
    },
  },
};

/** The headers helmet's own middleware puts on a real HTTP response. */
async function helmetOnARealResponse(options: HelmetOptions): Promise<Record<string, string>> {
  const middleware = helmet(options);
  const server: Server = createServer((req, res) => middleware(req, res, () => res.end('ok')));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/`);
    await res.text();
    const out: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      if (!['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'].includes(k))
        out[k] = v;
    });
    return out;
  } finally {
    await new Promise((r) => server.close(r));
  }
}

describe('securityHeaders', () => {
  it('are exactly the headers helmet itself sets for the same options', async () => {
    const computed = securityHeaders(OPTIONS);
    expect(computed).toEqual(await helmetOnARealResponse(OPTIONS));
    expect(computed['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(computed['x-content-type-options']).toBe('nosniff');
    expect(computed['strict-transport-security']).toEqual(expect.stringContaining('max-age='));
  });

  it('refuses options helmet rejects', () => {
    expect(() =>
      securityHeaders({
        contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], 'bad name!': ['x'] } },
      }),
    ).toThrow();
  });

  it("API answers get helmet's headers for the strict API options: exactly the OWASP REST set", async () => {
    const api = securityHeaders(API_SECURITY);
    expect(api).toEqual(await helmetOnARealResponse(API_SECURITY));
    expect(api).toEqual({
      'content-security-policy': "default-src 'none';frame-ancestors 'none'",
      'cross-origin-resource-policy': 'same-origin',
      'referrer-policy': 'no-referrer',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    });
  });

  it('Swagger UI (/docs and below) gets the document set, every other path the API set', () => {
    const forPath = securityHeadersByPath();
    const document = securityHeaders(DOCUMENT_SECURITY);
    const api = securityHeaders(API_SECURITY);
    expect(forPath('/docs')).toEqual(document);
    expect(forPath('/docs/swagger-ui-bundle.js')).toEqual(document);
    expect(document['content-security-policy']).toContain("script-src 'self' 'unsafe-inline'");
    for (const path of ['/docs-json', '/docsx', '/exchangeRate', '/', '/admin/docs']) {
      expect(forPath(path)).toEqual(api);
    }
  });
});
