// mongo-init/setup.cjs against a real server: FerretDB v1.24.2 through the Node driver, the
// way mongosh runs it in docker compose (the same `run(db, command)` calls).
//
// What FerretDB can show: the indexes (and that they equal the consumer's own), idempotence, and
// the whole run's order of steps. What it cannot: replica-set commands (replSetGetStatus,
// replSetInitiate, replSetGetConfig) and users (usersInfo, createUser, updateUser) are not
// implemented there, so `main` runs with those commands answered by a scripted member, and
// compose.test.ts covers their logic. Initiation, elections and SCRAM users need a real
// three-member replica set (docker compose; see docs/deployment.md).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TradeStore } from '@stockmarket/consumer/store.js';
import { FerretDbServer } from '@stockmarket/stack';
import { type Db, MongoClient } from 'mongodb';
import { loadMongoInitSetup, type Run } from './mongo-init-setup.js';

const setup = loadMongoInitSetup();

/** The index names and keys of every collection of a database, comparable across databases. */
async function indexSummary(db: Db): Promise<Record<string, string[]>> {
  const summary: Record<string, string[]> = {};
  for (const { name } of await db.listCollections({}, { nameOnly: true }).toArray()) {
    const indexes = await db.collection(name).listIndexes().toArray();
    summary[name] = indexes
      .map((index) => `${index.name} ${JSON.stringify(index.key)}${index.unique ? ' unique' : ''}`)
      .sort();
  }
  return summary;
}

describe('mongo-init against FerretDB', () => {
  let server: FerretDbServer;
  let client: MongoClient;
  let run: Run;

  before(async () => {
    server = await FerretDbServer.start();
    client = new MongoClient(server.url, { serverSelectionTimeoutMS: 5_000 });
    await client.connect();
    run = (db, command) => client.db(db).command(command);
  });

  after(async () => {
    await client?.close();
    await server?.stop();
  });

  it('creates every planned index, with the TTL index falling back where the server refuses it', async () => {
    const lines: string[] = [];
    const warnings = await setup.ensureIndexes(run, 'init_plan', 'stocks', (line) => lines.push(line));
    const summary = await indexSummary(client.db('init_plan'));
    for (const { collection, index, fallback } of setup.indexPlan('stocks')) {
      const names = (summary[collection] ?? []).map((entry) => entry.split(' ')[0]);
      const expected = warnings.some((warning) => warning.startsWith(`${collection}.${index.name}:`))
        ? fallback?.name
        : index.name;
      assert.ok(expected && names.includes(expected), `${collection}: ${expected} in ${names.join(', ')}`);
    }
    assert.ok(summary.stocks?.some((entry) => entry.startsWith('company_unique {"company":1} unique')));
    // FerretDB 1.24 has no TTL indexes: exactly that one warning, and its fallback is in place.
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0] ?? '', /^trade_buckets\.expires_at_ttl: .*using expires_at$/);
    assert.ok(lines.some((line) => line.includes('expires_at in place (fallback)')));
  });

  it('is idempotent: a second run changes nothing', async () => {
    const before = await indexSummary(client.db('init_plan'));
    await setup.ensureIndexes(run, 'init_plan', 'stocks');
    assert.deepEqual(await indexSummary(client.db('init_plan')), before);
  });

  it('creates the same indexes as the consumer does at start-up', async () => {
    const store = new TradeStore(client.db('init_consumer'), {
      stocksCollection: 'quotes',
      writeConcern: 1,
      dedupRetentionMs: 60_000,
      candle1sRetentionMs: 60_000,
    });
    await store.ensureIndexes();
    await setup.ensureIndexes(run, 'init_mongo_init', 'quotes');
    const fromConsumer = await indexSummary(client.db('init_consumer'));
    assert.ok(Object.keys(fromConsumer).length >= 4, 'the consumer created its collections');
    assert.deepEqual(await indexSummary(client.db('init_mongo_init')), fromConsumer);
  });

  it('passes server errors on instead of hiding them', async () => {
    // FerretDB has no user management: the error reaches the caller (a real replica set has it).
    await assert.rejects(
      setup.ensureUsers(run, 'admin', [{ user: 'consumer', pwd: 'x', roles: [] }]),
      (error: Error & { codeName?: string }) => error.codeName === 'CommandNotFound',
    );
    await assert.rejects(
      setup.ensureReplicaSet(run, { _id: 'rs0', members: [{ _id: 0, host: 'mongo1:27017' }] }),
      (error: Error & { codeName?: string }) => error.codeName === 'CommandNotFound',
    );
  });

  it('runs the whole set-up in order: seed member, replica set, primary, users, then indexes', async () => {
    const state = { initiated: false, users: new Set<string>() };
    const urls: string[] = [];
    const steps: string[] = [];
    // FerretDB answers everything it implements; the replica-set and user commands, which it
    // lacks, come from a scripted member.
    const connect = async (url: string): Promise<Run> => {
      urls.push(url);
      return async (db, command) => {
        const name = Object.keys(command)[0] ?? '';
        steps.push(name);
        switch (name) {
          case 'replSetGetStatus':
            if (!state.initiated) throw Object.assign(new Error('no config'), { code: 94 });
            return { ok: 1, set: 'rs0' };
          case 'replSetInitiate':
            state.initiated = true;
            return { ok: 1 };
          case 'replSetGetConfig':
            return { ok: 1, config: { members: ['mongo1', 'mongo2', 'mongo3'].map((m) => ({ host: `${m}:27017` })) } };
          case 'hello':
            return { ...(await run(db, command)), primary: 'mongo1:27017' };
          case 'usersInfo':
            return { ok: 1, users: state.users.has(command.usersInfo as string) ? [{}] : [] };
          case 'createUser':
            state.users.add(command.createUser as string);
            return { ok: 1 };
          case 'updateUser':
            return { ok: 1 };
          default:
            return run(db, command);
        }
      };
    };
    const settings = setup.settingsFromEnv({
      MONGO_ROOT_USERNAME: 'admin',
      MONGO_ROOT_PASSWORD: 'admin-pw',
      MONGO_CONSUMER_PASSWORD: 'consumer-pw',
      MONGO_LIVEVIEW_PASSWORD: 'liveview-pw',
      MONGODB_DB: 'init_main',
    });
    const first = await setup.main(settings, connect);
    assert.equal(first.replicaSet.action, 'initiated');
    assert.equal(first.primary, 'mongo1:27017');
    assert.deepEqual(first.users, [
      { user: 'consumer', action: 'created' },
      { user: 'liveview', action: 'created' },
    ]);
    assert.match(urls[0] ?? '', /@mongo1:27017\/\?directConnection=true/);
    assert.match(urls[1] ?? '', /@mongo1:27017,mongo2:27017,mongo3:27017\/\?replicaSet=rs0/);
    const order = ['ping', 'replSetGetStatus', 'replSetInitiate', 'hello', 'usersInfo', 'createIndexes'];
    assert.deepEqual(
      order.map((step) => steps.indexOf(step)),
      order.map((step) => steps.indexOf(step)).sort((a, b) => a - b),
      `steps in order: ${steps.join(', ')}`,
    );
    assert.ok((await indexSummary(client.db('init_main'))).candles?.length === 3, 'indexes written to FerretDB');

    // The next `docker compose up`: nothing is initiated twice, users are updated in place.
    steps.length = 0;
    const second = await setup.main(settings, connect);
    assert.equal(second.replicaSet.action, 'exists');
    assert.ok(!steps.includes('replSetInitiate') && !steps.includes('createUser'));
    assert.deepEqual(second.users, [
      { user: 'consumer', action: 'updated' },
      { user: 'liveview', action: 'updated' },
    ]);
  });

  it('keeps retrying the seed member until its deadline, then fails with the reason', async () => {
    const settings = {
      ...setup.settingsFromEnv({
        MONGO_ROOT_USERNAME: 'a',
        MONGO_ROOT_PASSWORD: 'b',
        MONGO_CONSUMER_PASSWORD: 'c',
        MONGO_LIVEVIEW_PASSWORD: 'd',
      }),
      timeoutMs: 50,
    };
    let attempts = 0;
    const refuse = async (): Promise<Run> => {
      attempts++;
      throw new Error('connect ECONNREFUSED');
    };
    await assert.rejects(
      setup.main(
        settings,
        refuse,
        () => {},
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 20));
        },
      ),
      /cannot reach mongo1:27017: connect ECONNREFUSED/,
    );
    assert.ok(attempts >= 2, `retried (${attempts} attempts)`);
  });
});
