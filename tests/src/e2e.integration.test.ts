import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_COMPANIES } from '@stockmarket/common';
import { LocalStack, launchBrowser, repoRoot, waitFor } from '@stockmarket/stack';
import type { Browser } from 'playwright-core';

let stack: LocalStack;
let browser: Browser;

before(async () => {
  stack = await LocalStack.start({ liveviews: 2, publisherEnv: { TICKER_INTERVAL: '50' } });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('the page through NGINX shows a price for every company, and the prices move', async () => {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(stack.url);
  const prices = async () =>
    page.$$eval('#tiles li', (items) =>
      Object.fromEntries(
        items.map((item) => [
          (item as HTMLElement).dataset.company,
          item.querySelector('[data-field="price"]')?.textContent ?? '',
        ]),
      ),
    );
  const first = await waitFor('a price on every tile', async () => {
    const shown = await prices();
    return DEFAULT_COMPANIES.every((company) => /^\d+\.\d\d$/.test(shown[company] ?? '')) ? shown : undefined;
  });
  await waitFor(
    'every price to change',
    async () => {
      const now = await prices();
      return DEFAULT_COMPANIES.every((company) => now[company] !== first[company]);
    },
    { timeoutMs: 30_000 },
  );
  assert.match((await page.textContent('#replica')) ?? '', /^liveview-\d$/);
  assert.equal(await page.getAttribute('#connection', 'data-state'), 'connected');
  const dir = join(repoRoot, 'test-artifacts');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, 'e2e-page.png') });
  assert.deepEqual(errors, [], 'no errors in the page');
});
