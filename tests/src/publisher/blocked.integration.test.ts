import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RabbitMqServer, ServiceProcess, waitFor } from '@stockmarket/stack';

let rabbitmq: RabbitMqServer;

before(async () => {
  rabbitmq = await RabbitMqServer.start();
});
after(async () => {
  await rabbitmq?.stop();
});

/**
 * The value of a counter that did not move over an observation window of `windowMs`, else
 * undefined (a pause is a claim about a span of time, so it is observed over one).
 */
async function unchangedFor(read: () => Promise<number>, windowMs: number): Promise<number | undefined> {
  const first = await read();
  const until = Date.now() + windowMs;
  await waitFor('the observation window', () => Date.now() >= until, { intervalMs: 50, timeoutMs: windowMs * 4 });
  return (await read()) === first ? first : undefined;
}

test('a broker memory alarm blocks the publisher: generation pauses, then resumes when it clears', async () => {
  const publisher = await ServiceProcess.start('publisher', {
    RABBITMQ_URL: rabbitmq.url('publisher'),
    PUBLISHER_RATE: '500',
    PUBLISHER_MAX_IN_FLIGHT: '200',
  });
  try {
    const published = () => publisher.metric('publisher_published_total');
    await waitFor('some trades confirmed', async () => (await publisher.metric('publisher_confirmed_total')) > 200);
    // A high watermark of 0 raises the memory alarm at once: the broker blocks publishers.
    await rabbitmq.ctl('set_vm_memory_high_watermark', '0');
    await waitFor(
      'the publisher to report it is blocked',
      async () => (await publisher.metric('publisher_blocked')) === 1,
      {
        timeoutMs: 30_000,
      },
    );
    const paused = await waitFor('generation to stop', () => unchangedFor(published, 1_500), { timeoutMs: 30_000 });
    assert.ok((await publisher.metric('publisher_in_flight')) <= 200, 'the unconfirmed window stays bounded');
    assert.match(publisher.process.output, /broker blocked us/);

    await rabbitmq.ctl('set_vm_memory_high_watermark', '0.6');
    await waitFor('generation to resume', async () => (await published()) > paused + 500, { timeoutMs: 30_000 });
    assert.equal(await publisher.metric('publisher_blocked'), 0);
    assert.match(publisher.process.output, /broker unblocked us/);
    const stoppedCode = await publisher.stop();
    assert.equal(stoppedCode, 0, 'a clean stop after the alarm');
  } finally {
    await publisher.stop();
  }
});
