// The MongoDB driver's server monitor after database restarts under load (opt-in, with the soak:
// STOCKMARKET_SOAK_TESTS=true node scripts/run-tests.mjs integration mongo-driver-restarts).
// mongodb 7.9 can leave a server check hanging for ever when the server goes away at the wrong
// moment; the client then fails every operation until the process restarts. Found by the soak,
// reproduced here in 4 to 6 of 10 restarts without the watchdog (docs/reliability.md).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, delay, longestServerCheckMs, MongoMonitorWatchdog } from '@stockmarket/common';
import { FerretDbServer, stackConfig } from '@stockmarket/stack';
import { MongoClient } from 'mongodb';

const skip = stackConfig.STOCKMARKET_SOAK_TESTS ? false : 'opt-in: STOCKMARKET_SOAK_TESTS=true (about 3 minutes)';
const CLIENTS = 6;
const RESTARTS = 10;
/** The services' options (consumer and liveview main.ts). */
const options = { serverSelectionTimeoutMS: 2_000, connectTimeoutMS: 10_000, socketTimeoutMS: 10_000 } as const;

test(`${CLIENTS} clients writing and reading while the database restarts ${RESTARTS} times: each works again after every restart`, {
  skip,
  timeout: 15 * 60_000,
}, async () => {
  const db = await FerretDbServer.start();
  const clients = Array.from({ length: CLIENTS }, () => new MongoClient(db.url, options));
  const watchdogs = clients.map(
    (client) => new MongoMonitorWatchdog(client, createLogger('test', 'silent'), longestServerCheckMs(options)),
  );
  const lastOk = clients.map(() => 0);
  const lastError = clients.map(() => '');
  let running = true;
  const loops = clients.map(async (client, index) => {
    const collection = client.db('restarts').collection(`c${index % 3}`);
    while (running) {
      try {
        await collection.updateOne(
          { _id: `s${Date.now() % 50}` as never },
          { $set: { at: Date.now() } },
          { upsert: true },
        );
        await collection.find({}).limit(5).toArray();
        lastOk[index] = Date.now();
      } catch (error) {
        lastError[index] = (error as Error).message;
        await delay(100);
      }
    }
  });
  const recoveries: number[] = [];
  try {
    for (let round = 0; round < RESTARTS; round++) {
      await delay(3_000 + Math.random() * 3_000); // load between restarts, not a synchronisation
      await db.pause();
      await delay(3_000 + Math.random() * 5_000); // the outage
      await db.resume();
      const healed = Date.now();
      // Worst case: a hung check is noticed after the longest check, then the client reconnects.
      const deadline = healed + longestServerCheckMs(options) + 30_000;
      while (Date.now() < deadline && !lastOk.every((at) => at > healed)) await delay(100);
      const stuck = lastOk.flatMap((at, index) => (at > healed ? [] : [`client ${index}: ${lastError[index]}`]));
      assert.deepEqual(stuck, [], `restart ${round + 1}: every client works again`);
      recoveries.push(Math.max(...lastOk) - healed);
    }
    const restarted = watchdogs.reduce((sum, watchdog) => sum + watchdog.restarts, 0);
    console.log(
      `# ${RESTARTS} restarts: every client back within ${Math.max(...recoveries)} ms; hung checks restarted by the watchdog: ${restarted}`,
    );
  } finally {
    running = false;
    await Promise.all(loops);
    for (const watchdog of watchdogs) watchdog.stop();
    await Promise.all(clients.map((client) => client.close().catch(() => {})));
    await db.stop();
  }
});
