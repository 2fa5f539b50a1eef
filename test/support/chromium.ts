import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { realComponent } from './real-component.js';

/** Debian's Chromium (Playwright's own browser downloads are not reachable here). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const chromiumAvailable = (): boolean =>
  realComponent('chromium', existsSync(CHROMIUM), `${CHROMIUM} not found (run scripts/ci/install-chromium.sh)`);

/** Headless, and kept off the network: background services would only hit this machine's closed network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
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
