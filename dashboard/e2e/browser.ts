/** Headless Chromium for the browser tests: Debian's package, no sandbox (containers), no noise. */
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.OWP_CHROMIUM ?? '/usr/bin/chromium';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
