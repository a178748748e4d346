// A signal during start-up stops a service promptly and cleanly: the consumer while it waits for
// an unreachable database, the publisher while it waits for an unreachable broker.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, ServiceProcess, waitFor } from '@stockmarket/stack';

async function stopDuringStartup(service: ServiceProcess): Promise<void> {
  try {
    // The ops server answers before the service has connected to anything.
    await waitFor(`${service.process.options.name} /healthz`, async () => {
      if (!service.process.running) throw new Error(`exited early:\n${service.process.output}`);
      return (await fetch(`${service.url}/healthz`)).status === 200;
    });
    assert.equal((await fetch(`${service.url}/readyz`)).status, 503, 'not ready: still starting');
    const started = Date.now();
    // No SIGKILL within the test's bound: the exit must be the service's own.
    const code = await service.stop(20_000);
    const tookMs = Date.now() - started;
    assert.equal(code, 0, `clean exit, got ${code}:\n${service.process.output.slice(-2000)}`);
    assert.ok(tookMs < 3_000, `stopped in ${tookMs} ms`);
    assert.match(service.process.output, /"msg":"shutting down"/);
    assert.match(service.process.output, /"msg":"stopped cleanly"/);
  } finally {
    await service.stop(1_000);
  }
}

test('consumer: SIGTERM while the database is unreachable', async () => {
  const closed = await freePort();
  const consumer = await ServiceProcess.start(
    'consumer',
    {
      MONGODB_URL: `mongodb://127.0.0.1:${closed}/?directConnection=true`,
      RABBITMQ_URL: `amqp://consumer:x@127.0.0.1:${await freePort()}/stockmarket`,
    },
    { waitReady: false },
  );
  await stopDuringStartup(consumer);
});

test('publisher: SIGTERM while the broker is unreachable', async () => {
  const publisher = await ServiceProcess.start(
    'publisher',
    { RABBITMQ_URL: `amqp://publisher:x@127.0.0.1:${await freePort()}/stockmarket` },
    { waitReady: false },
  );
  await stopDuringStartup(publisher);
});
