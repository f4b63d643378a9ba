import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium (installed by .ci/run through apt); never a downloaded browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * `describe` where the browser exists or in CI (which installs it and must run these tests), else
 * `describe.skip`, so a run elsewhere says why the browser tests did not run.
 */
export const describeWithChromium: jest.Describe =
  existsSync(CHROMIUM) || process.env.CI === 'true' ? describe : describe.skip;

/** A headless Chromium that makes no call home at start-up (this machine's network is closed). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
