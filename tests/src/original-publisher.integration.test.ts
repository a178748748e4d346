// COMPANY_QUEUES_DURABLE=false, end to end: a stand-in of the course's original publisher
// (stack/src/original-publisher.ts: non-durable queues without arguments, transient messages,
// the original JSON only) against the local stack in that mode, through our consumer into
// FerretDB and onto the page in Chromium through NGINX.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { LocalStack, launchBrowser, ServiceProcess, waitFor } from '@stockmarket/stack';
import type { Browser } from 'playwright-core';
import { OriginalPublisher } from './original-publisher.js';

const companies = ['AAPL', 'MSFT', 'TSLA'] as const;
// Prices far from our simulator's, so the page can only be showing the stand-in's trades.
const band: Record<string, number> = { AAPL: 1111, MSFT: 2222, TSLA: 3333 };

let stack: LocalStack;
let browser: Browser;
let original: OriginalPublisher | undefined;

before(async () => {
  stack = await LocalStack.start({ companyQueuesDurable: false, publisher: false, liveviews: 2 });
  browser = await launchBrowser();
});
after(async () => {
  await original?.stop().catch(() => {});
  await browser?.close();
  await stack?.stop();
});

test('the company queues are declared as the original declares them (not durable)', async () => {
  // A durable declaration of an existing non-durable queue is refused: the queue is non-durable.
  await assert.rejects(
    stack.rabbitmq.withChannel(async (channel) => {
      channel.on('error', () => {}); // the refusal closes the channel; asserted through the rejection
      await channel.assertQueue('AAPL', { durable: true });
    }),
    /PRECONDITION_FAILED - inequivalent arg 'durable'/,
  );
});

test('the original publisher runs against our broker, and its trades reach the page', async () => {
  // The original exits at once when a declaration is refused; here start() would reject.
  original = await OriginalPublisher.start(stack.rabbitmq.url('publisher'), companies);
  original.publishEvery(20, companies, (company) => (band[company] ?? 1) + Math.random() * 0.9);

  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(stack.url);
  const shown = await waitFor(
    "the stand-in's prices on every tile",
    async () => {
      const prices = await page.$$eval('#tiles li', (items) =>
        Object.fromEntries(
          items.map((item) => [
            (item as HTMLElement).dataset.company,
            item.querySelector('[data-field="price"]')?.textContent ?? '',
          ]),
        ),
      );
      const inBand = companies.every((company) => {
        const value = Number(prices[company]);
        return value >= (band[company] ?? 0) && value < (band[company] ?? 0) + 1;
      });
      return inBand ? prices : undefined;
    },
    { timeoutMs: 30_000 },
  );
  assert.ok(original.published > 0);
  assert.match((await page.textContent('#replica')) ?? '', /^liveview-\d$/);
  assert.deepEqual(errors, [], `no page errors (shown: ${JSON.stringify(shown)})`);
  await page.close();
});

test('our publisher and consumer in this mode declare the same queues without a conflict', async () => {
  const publisher = await ServiceProcess.start('publisher', stack.publisherEnv({ TICKER_INTERVAL: '100' }));
  try {
    for (const service of [publisher, ...stack.consumers]) {
      assert.doesNotMatch(service.process.output, /queue exists with other arguments/, service.process.options.name);
    }
  } finally {
    await publisher.stop(15_000);
  }
});
