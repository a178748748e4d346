import { waitFor } from '@stockmarket/common';
import type { Channel, GetMessage } from 'amqplib';
import { type Browser, chromium, type Page } from 'playwright-core';
import { stackConfig } from './config.js';
import type { RabbitMqServer } from './rabbitmq.js';

/** Debian's Chromium, headless, without any of its calls home (the machine has no internet). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: stackConfig.CHROMIUM_PATH,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** Publishes raw bodies to a queue through the default exchange, confirmed by the broker. */
export async function publishRaw(
  rabbitmq: RabbitMqServer,
  queue: string,
  bodies: ReadonlyArray<Buffer | string | object>,
  properties: { contentType?: string; headers?: Record<string, unknown> } = {},
): Promise<void> {
  const connection = await (await import('amqplib')).default.connect(rabbitmq.url());
  try {
    const channel = await connection.createConfirmChannel();
    for (const body of bodies) {
      const content = Buffer.isBuffer(body)
        ? body
        : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      channel.publish('', queue, content, {
        persistent: true,
        contentType: properties.contentType ?? 'application/json',
        headers: properties.headers,
      });
    }
    await channel.waitForConfirms();
  } finally {
    await connection.close().catch(() => {});
  }
}

/** Messages ready in a queue (not counting unacked ones). */
export function queueDepth(rabbitmq: RabbitMqServer, queue: string): Promise<number> {
  return rabbitmq.withChannel(async (channel) => (await channel.checkQueue(queue)).messageCount);
}

/** Takes every ready message out of a queue (they are removed). */
export function drainQueue(rabbitmq: RabbitMqServer, queue: string): Promise<GetMessage[]> {
  return rabbitmq.withChannel(async (channel: Channel) => {
    const messages: GetMessage[] = [];
    for (;;) {
      const message = await channel.get(queue, { noAck: true });
      if (!message) return messages;
      messages.push(message);
    }
  });
}

/** Waits until the queues together hold `count` ready messages. */
export async function waitForDepth(
  rabbitmq: RabbitMqServer,
  queues: readonly string[],
  count: number,
  timeoutMs = 60_000,
): Promise<void> {
  let last = 0;
  await waitFor(
    `${count} messages in ${queues.join(',')}`,
    async () => {
      last = 0;
      for (const queue of queues) last += await queueDepth(rabbitmq, queue);
      return last >= count;
    },
    { timeoutMs, intervalMs: 200 },
  ).catch((error: Error) => {
    throw new Error(`${error.message} (last seen: ${last})`);
  });
}

/** A change the page recorded: its connection state, the replica name, or a tile. */
export interface PageChange {
  at: number;
  what: 'state' | 'replica' | 'price';
  value: string;
}

/**
 * Starts recording, inside the page, when the connection state and the replica name change and
 * when a tile changes; `pageChanges` reads the log. Recording in the page times each change
 * exactly, whatever the test's polling interval.
 */
export async function recordPageChanges(page: Page): Promise<void> {
  await page.evaluate(() => {
    const log: { at: number; what: string; value: string }[] = [];
    (window as unknown as { changes: typeof log }).changes = log;
    const watch = (target: Element | null, what: string, value: () => string, options: MutationObserverInit) => {
      if (target)
        new MutationObserver(() => log.push({ at: Date.now(), what, value: value() })).observe(target, options);
    };
    const connection = document.querySelector<HTMLElement>('#connection');
    const replica = document.querySelector<HTMLElement>('#replica');
    const subtree = { childList: true, characterData: true, subtree: true };
    watch(connection, 'state', () => connection?.dataset.state ?? '', {
      attributes: true,
      attributeFilter: ['data-state'],
    });
    watch(replica, 'replica', () => replica?.textContent ?? '', subtree);
    watch(document.querySelector('#tiles'), 'price', () => '', subtree);
  });
}

export function pageChanges(page: Page): Promise<PageChange[]> {
  return page.evaluate(() => (window as unknown as { changes: PageChange[] }).changes);
}
