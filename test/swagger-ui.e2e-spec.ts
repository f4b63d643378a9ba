import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { createUser, type TestUser } from './factories/users';
import { CHROMIUM, describeWithChromium, launchChromium } from './support/chromium';
import { startTestApp, type TestApp } from './test-app';

jest.setTimeout(120_000);

const ARTIFACTS = join(__dirname, '..', 'test-results');
const run = describeWithChromium;

run(`Swagger UI in a real browser (${CHROMIUM})`, () => {
  let t: TestApp;
  let user: TestUser;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    t = await startTestApp();
    user = await createUser(t, 'swagger');
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.app.getHttpServer().address();
    if (!address || typeof address === 'string') throw new Error('the test server has no port');
    base = `http://127.0.0.1:${address.port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('opens /docs, authorizes with a token from /login, runs GET /whoami and shows the response', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${base}/docs`, { waitUntil: 'networkidle' });
      await page.locator('.swagger-ui .info .title').waitFor();

      // the token comes from POST /login, as a person would get it
      const login = await page.request.post(`${base}/login`, {
        data: { user_name: user.userName, password: user.password },
      });
      expect(login.status()).toBe(200);
      const token = ((await login.json()) as { access_token: string }).access_token;

      await page.locator('button.authorize').first().click();
      const dialog = page.locator('.dialog-ux .modal-ux');
      await dialog.locator('input[type="text"], input[type="password"]').first().fill(token);
      await dialog.locator('button.authorize').click();
      await dialog.locator('button.btn-done, button.close-modal').first().click();

      const op = page
        .locator('.opblock-get')
        .filter({ has: page.locator('[data-path="/whoami"]') })
        .first();
      await op.locator('.opblock-summary').first().click();
      await op.locator('button.try-out__btn').click();
      await op.locator('button.execute').click();
      const body = op.locator('.live-responses-table .response-col_description .highlight-code pre').first();
      await body.waitFor({ timeout: 15_000 });
      const text = (await body.innerText()).trim();
      expect(JSON.parse(text)).toMatchObject({
        id: user.id,
        user_name: user.userName,
        role: 'USER',
        status: 'ACTIVE',
      });
      await expect(
        op.locator('.live-responses-table tbody .response-col_status').first().innerText(),
      ).resolves.toContain('200');
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'swagger-ui-whoami.png'), fullPage: true });
      await op.screenshot({ path: join(ARTIFACTS, 'swagger-ui-whoami-response.png') });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
