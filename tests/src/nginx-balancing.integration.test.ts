// Balancing per browser, not per address (nginx/http.conf's userid cookie, hashed by the
// upstream): behind Docker Desktop or a NAT every browser reaches NGINX from one address, and
// `hash $remote_addr` sent them all to one replica. Here every Chromium context comes from
// 127.0.0.1, as there.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

interface Visit {
  /** The replica that served the page. */
  served: string;
  /** The replica that served its reload. */
  reloaded: string;
  /** The replica the page names, i.e. the one its socket.io connection reached. */
  named: string;
}

/** One browser: the replica that served its page (x-served-by), then the same after a reload. */
async function visit(context: BrowserContext, index: number): Promise<Visit> {
  const page = await context.newPage();
  try {
    const first = (await page.goto(stack.url))?.headers()['x-served-by'] ?? '';
    assert.match(first, /^liveview-\d$/, `browser ${index}: served by a replica`);
    // The same browser (its cookie) comes back to the same replica, socket.io's requests too:
    // the replica the page names (over socket.io) is the one that served it.
    const again = (await page.reload())?.headers()['x-served-by'] ?? '';
    const named = await waitFor('the page to name its replica', async () => {
      const name = (await page.textContent('#replica')) ?? '';
      return /^liveview-\d$/.test(name) ? name : undefined;
    });
    const cookie = (await context.cookies(stack.url)).find((entry) => entry.name === 'stockmarket_browser');
    assert.ok(cookie?.httpOnly, 'NGINX set its httpOnly browser cookie');
    return { served: first, reloaded: again, named };
  } finally {
    await page.close();
  }
}

test(`${BROWSERS} browsers from one address are spread over both replicas, each staying on its own`, async () => {
  const served = new Map<string, number>();
  const moved: string[] = [];
  // Four browsers at a time: fresh contexts, so each starts without a cookie.
  for (let batch = 0; batch < BROWSERS; batch += 4) {
    const replicas = await Promise.all(
      Array.from({ length: 4 }, async (_, offset) => {
        const context = await browser.newContext();
        try {
          return await visit(context, batch + offset);
        } finally {
          await context.close();
        }
      }),
    );
    for (const [offset, { served: replica, reloaded, named }] of replicas.entries()) {
      served.set(replica, (served.get(replica) ?? 0) + 1);
      if (reloaded !== replica || named !== replica) {
        moved.push(`browser ${batch + offset}: page ${replica}, reload ${reloaded}, socket.io ${named}`);
      }
    }
  }
  // The reload and socket.io reach the replica that served the page (the same cookie, the same
  // hash), unless NGINX failed over: a replica silent for longer than the 2 s socket.io read
  // timeout (two busy cores, several browsers at once) is skipped for fail_timeout, by design, and
  // its browsers move meanwhile. Such a move must then be in NGINX's error log, and stay the
  // exception; a wrong hash key would move about half of the browsers with nothing logged.
  if (moved.length > 0) {
    const nginx = stack.nginx;
    assert.ok(nginx, 'NGINX runs');
    const errors = readFileSync(join(nginx.dir, 'logs', 'error.log'), 'utf8');
    assert.match(
      errors,
      /upstream timed out|connect\(\) failed|no live upstreams/,
      `moved without a failover: ${moved}`,
    );
    assert.ok(moved.length <= BROWSERS / 8, `too many browsers moved: ${moved.join('; ')}`);
  }
  assert.deepEqual(
    [...served.keys()].sort(),
    ['liveview-1', 'liveview-2'],
    `browsers per replica: ${JSON.stringify([...served])}`,
  );
});

test("the liveview's /metrics, /healthz and /readyz are not served on NGINX's public port", async () => {
  for (const path of ['/metrics', '/healthz', '/readyz']) {
    const replica = stack.liveviews[0];
    assert.ok(replica, 'a liveview replica');
    assert.equal((await fetch(`${replica.url}${path}`)).status, 200, `the replica serves ${path} directly`);
    const response = await fetch(`${stack.url}${path}`);
    assert.equal(response.status, 404, `NGINX ${path}`);
    assert.equal(response.headers.get('x-served-by'), null, `NGINX ${path} never reaches a replica`);
  }
  // Only those exact paths: the page and the API still pass.
  assert.equal((await fetch(`${stack.url}/`)).status, 200);
});
