// Balancing per browser, not per address (nginx/http.conf's userid cookie, hashed by the
// upstream): behind Docker Desktop or a NAT every browser reaches NGINX from one address, and
// `hash $remote_addr` sent them all to one replica. Here every Chromium context comes from
// 127.0.0.1, as there.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LocalStack, launchBrowser, waitFor } from '@stockmarket/stack';
import type { Browser, BrowserContext } from 'playwright-core';

// Each new browser lands on either replica with a probability near 1/2 (consistent hashing of a
// random id): all 32 on one replica happens with a probability of about 2 * 0.5^32, 5e-10.
const BROWSERS = 32;

let stack: LocalStack;
let browser: Browser;

before(async () => {
  stack = await LocalStack.start({ liveviews: 2, publisher: false });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** One browser: the replica that served its page (x-served-by), then the same after a reload. */
async function visit(context: BrowserContext, index: number): Promise<string> {
  const page = await context.newPage();
  try {
    const first = (await page.goto(stack.url))?.headers()['x-served-by'] ?? '';
    assert.match(first, /^liveview-\d$/, `browser ${index}: served by a replica`);
    // The same browser (its cookie) comes back to the same replica, socket.io's requests too:
    // the replica the page names (over socket.io) is the one that served it.
    const again = (await page.reload())?.headers()['x-served-by'];
    assert.equal(again, first, `browser ${index}: a reload stays on ${first}`);
    const named = await waitFor('the page to name its replica', async () => {
      const name = (await page.textContent('#replica')) ?? '';
      return /^liveview-\d$/.test(name) ? name : undefined;
    });
    assert.equal(named, first, `browser ${index}: socket.io on the replica that served the page`);
    const cookie = (await context.cookies(stack.url)).find((entry) => entry.name === 'stockmarket_browser');
    assert.ok(cookie?.httpOnly, 'NGINX set its httpOnly browser cookie');
    return first;
  } finally {
    await page.close();
  }
}

test(`${BROWSERS} browsers from one address are spread over both replicas, each staying on its own`, async () => {
  const served = new Map<string, number>();
  // Eight browsers at a time: fresh contexts, so each starts without a cookie.
  for (let batch = 0; batch < BROWSERS; batch += 8) {
    const replicas = await Promise.all(
      Array.from({ length: 8 }, async (_, offset) => {
        const context = await browser.newContext();
        try {
          return await visit(context, batch + offset);
        } finally {
          await context.close();
        }
      }),
    );
    for (const replica of replicas) served.set(replica, (served.get(replica) ?? 0) + 1);
  }
  assert.deepEqual(
    [...served.keys()].sort(),
    ['liveview-1', 'liveview-2'],
    `browsers per replica: ${JSON.stringify([...served])}`,
  );
});
