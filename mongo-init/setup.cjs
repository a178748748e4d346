'use strict';
// Idempotent MongoDB set-up for docker compose: replica set, least-privilege users, indexes.
//
// Plain CommonJS without dependencies, so that two very different callers can run it:
//  - mongosh in the mongo image (mongo-init/init.js requires this file), and
//  - the tests, with the Node driver against FerretDB (stack/src/mongo-init.integration.test.ts).
// Every function takes `run(dbName, command) -> Promise<reply>`, which both callers can provide
// (mongosh: `conn.getDB(name).runCommand(cmd)`, Node: `client.db(name).command(cmd)`); both throw
// on `ok: 0`, with the server's `code`/`codeName` on the error.

/** Error codes the logic below expects and handles. */
const codes = Object.freeze({
  NotYetInitialized: 94,
  UserNotFound: 11,
  AuthenticationFailed: 18,
});

/**
 * The administrator's password that docker compose's committed .env gave every install before
 * passwords were generated (issue 24). A data directory made then still has it: mongo-init logs
 * in with it once and changes it to the generated one, so such a stack keeps working and stops
 * having a known password.
 */
const RETIRED_ROOT_PASSWORD = 'admin-dev-password';

/** The replica set's members: service names, so that it works on every Docker host alike. */
function replicaSetConfig(name, hosts) {
  if (!name) throw new Error('replica set name is empty');
  if (hosts.length === 0) throw new Error('no replica set members given');
  return {
    _id: name,
    members: hosts.map((host, index) => ({ _id: index, host })),
  };
}

/** `mongo1:27017,mongo2:27017` -> ['mongo1:27017', 'mongo2:27017'] (port 27017 when missing). */
function parseMembers(text) {
  return String(text)
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((host) => (host.includes(':') ? host : `${host}:27017`));
}

function hasCode(error, code, codeName) {
  return Boolean(error) && (error.code === code || error.codeName === codeName);
}

/**
 * Initiates the replica set unless it is initiated already. An existing set whose members differ
 * from the wanted ones is left alone (reconfiguring a live set is an operator's decision) and
 * reported as `mismatch`.
 */
async function ensureReplicaSet(run, config, log = () => {}) {
  let status;
  try {
    status = await run('admin', { replSetGetStatus: 1 });
  } catch (error) {
    if (!hasCode(error, codes.NotYetInitialized, 'NotYetInitialized')) throw error;
    await run('admin', { replSetInitiate: config });
    log(`replica set ${config._id} initiated with ${config.members.map((member) => member.host).join(', ')}`);
    return { action: 'initiated', mismatch: [] };
  }
  if (status.set !== config._id) {
    throw new Error(`this node belongs to replica set "${status.set}", not "${config._id}"`);
  }
  const current = (await run('admin', { replSetGetConfig: 1 })).config;
  const mismatch = memberMismatch(
    config.members.map((member) => member.host),
    current.members.map((member) => member.host),
  );
  if (mismatch.length > 0) log(`replica set ${config._id} exists with other members: ${mismatch.join('; ')}`);
  else log(`replica set ${config._id} already initiated`);
  return { action: 'exists', mismatch };
}

/** Differences between wanted and current member hosts, as readable lines (empty: the same). */
function memberMismatch(wanted, current) {
  const missing = wanted.filter((host) => !current.includes(host)).map((host) => `missing ${host}`);
  const extra = current.filter((host) => !wanted.includes(host)).map((host) => `unexpected ${host}`);
  return [...missing, ...extra];
}

/** Polls `hello` until the set has a primary; returns its host. */
async function waitForPrimary(run, options = {}) {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const intervalMs = options.intervalMs ?? 500;
  const sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    try {
      const hello = await run('admin', { hello: 1 });
      if (hello.primary) return hello.primary;
      last = 'no primary yet';
    } catch (error) {
      last = error.message;
    }
    if (Date.now() >= deadline) throw new Error(`no primary after ${timeoutMs} ms (${last})`);
    await sleep(intervalMs);
  }
}

/**
 * The users the services log in as, all in `admin` (authSource=admin): the consumer writes the
 * stockmarket database, the liveview only reads it (and, with the read-only clusterMonitor role,
 * the replica set's status for its System view). The administrator (root) is created by the
 * mongo image itself from MONGO_INITDB_ROOT_USERNAME/PASSWORD on the first start of mongo1.
 */
function serviceUsers({ dbName, consumer, liveview }) {
  return [
    { user: consumer.user, pwd: consumer.pwd, roles: [{ role: 'readWrite', db: dbName }] },
    {
      user: liveview.user,
      pwd: liveview.pwd,
      roles: [
        { role: 'read', db: dbName },
        { role: 'clusterMonitor', db: 'admin' },
      ],
    },
  ];
}

/** Creates each user, or brings an existing one's password and roles in line with the wanted. */
async function ensureUsers(run, authDb, users, log = () => {}) {
  const actions = [];
  for (const { user, pwd, roles } of users) {
    if (!user || !pwd) throw new Error(`user "${user}" needs a name and a password`);
    const info = await run(authDb, { usersInfo: user });
    if ((info.users ?? []).length > 0) {
      await run(authDb, { updateUser: user, pwd, roles });
      actions.push({ user, action: 'updated' });
    } else {
      await run(authDb, { createUser: user, pwd, roles });
      actions.push({ user, action: 'created' });
    }
    log(`user ${user}: ${actions.at(-1).action} (${roles.map((role) => `${role.role}@${role.db}`).join(', ')})`);
  }
  return actions;
}

/**
 * The indexes the consumer and the liveview need: a copy of `indexPlan` in common/src/storage.ts,
 * the storage contract (mongosh cannot import TypeScript; tests/src/mongo-init.test.ts checks that
 * the two lists are equal). `fallback` replaces an index that a server refuses (FerretDB has no
 * TTL indexes; the consumer's periodic sweep covers retention there), `optional` marks one whose
 * failure is only reported (a unique index over duplicate data).
 */
function indexPlan(stocksCollection) {
  return [
    {
      collection: stocksCollection,
      index: { key: { company: 1 }, name: 'company_unique', unique: true },
      optional: true,
    },
    { collection: 'candles', index: { key: { company: 1, interval: 1, start: -1 }, name: 'company_interval_start' } },
    { collection: 'candles', index: { key: { updatedAt: 1 }, name: 'updated_at' } },
    { collection: 'stock_history', index: { key: { company: 1, to: -1 }, name: 'company_to' } },
    {
      collection: 'trade_buckets',
      index: { key: { expiresAt: 1 }, name: 'expires_at_ttl', expireAfterSeconds: 0 },
      fallback: { key: { expiresAt: 1 }, name: 'expires_at' },
    },
  ];
}

/** Creates the indexes (createIndexes is a no-op for an identical existing index); returns warnings. */
async function ensureIndexes(run, dbName, stocksCollection, log = () => {}) {
  const warnings = [];
  for (const { collection, index, fallback, optional } of indexPlan(stocksCollection)) {
    try {
      await run(dbName, { createIndexes: collection, indexes: [index] });
      log(`index ${dbName}.${collection}.${index.name} in place`);
    } catch (error) {
      if (fallback) {
        warnings.push(`${collection}.${index.name}: ${error.message}; using ${fallback.name}`);
        await run(dbName, { createIndexes: collection, indexes: [fallback] });
        log(`index ${dbName}.${collection}.${fallback.name} in place (fallback)`);
      } else if (optional) {
        warnings.push(`${collection}.${index.name}: ${error.message}`);
      } else {
        throw error;
      }
    }
  }
  for (const warning of warnings) log(`warning: ${warning}`);
  return warnings;
}

/**
 * A password from `<name>_FILE` (the file's content without its trailing newline; docker compose
 * gives the generated ones so) or `<name>`. Errors name the variables and the path, never the content.
 */
function secretFromEnv(env, name, readFile = (path) => require('node:fs').readFileSync(path, 'utf8')) {
  const path = env[`${name}_FILE`];
  if (!path) {
    if (!env[name]) throw new Error(`${name}_FILE (or ${name}) must be set`);
    return env[name];
  }
  if (env[name]) throw new Error(`${name} and ${name}_FILE are both set: set one`);
  let content;
  try {
    content = String(readFile(path)).replace(/\r?\n$/, '');
  } catch (error) {
    throw new Error(`${name}_FILE (${path}): cannot read the file (${error.code || 'error'})`);
  }
  if (!content) throw new Error(`${name}_FILE (${path}): the file is empty`);
  return content;
}

/** Reads and checks the environment of the mongo-init service. */
function settingsFromEnv(env, readFile = undefined) {
  const required = (name) => {
    const value = env[name];
    if (!value) throw new Error(`${name} must be set`);
    return value;
  };
  const secret = (name) => secretFromEnv(env, name, readFile);
  return {
    replicaSet: env.MONGO_REPLICA_SET || 'rs0',
    members: parseMembers(env.MONGO_MEMBERS || 'mongo1:27017,mongo2:27017,mongo3:27017'),
    rootUser: required('MONGO_ROOT_USERNAME'),
    rootPassword: secret('MONGO_ROOT_PASSWORD'),
    dbName: env.MONGODB_DB || 'stockmarket',
    stocksCollection: env.MONGODB_COLLECTION || 'stocks',
    consumer: { user: env.MONGO_CONSUMER_USERNAME || 'consumer', pwd: secret('MONGO_CONSUMER_PASSWORD') },
    liveview: { user: env.MONGO_LIVEVIEW_USERNAME || 'liveview', pwd: secret('MONGO_LIVEVIEW_PASSWORD') },
    timeoutMs: Number(env.MONGO_INIT_TIMEOUT_MS || 120_000),
  };
}

/** Connection strings with the credentials percent-encoded, as a URL requires. */
function connectionStrings(settings, rootPassword = settings.rootPassword) {
  const auth = `${encodeURIComponent(settings.rootUser)}:${encodeURIComponent(rootPassword)}`;
  const first = settings.members[0];
  return {
    // Before the set exists, only a direct connection to one member works.
    seed: `mongodb://${auth}@${first}/?directConnection=true&authSource=admin&serverSelectionTimeoutMS=2000`,
    replicaSet: `mongodb://${auth}@${settings.members.join(',')}/?replicaSet=${encodeURIComponent(
      settings.replicaSet,
    )}&authSource=admin&serverSelectionTimeoutMS=5000`,
  };
}

/**
 * The whole run, given a way to open a connection (`connect(url) -> Promise<run>`):
 * connect to the first member (retrying while the members start), initiate the set, wait for a
 * primary, then create users and indexes through a replica-set connection.
 */
async function main(settings, connect, log = () => {}, sleep = undefined) {
  const urls = connectionStrings(settings);
  const pause = sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + settings.timeoutMs;
  let seedRun;
  let retiredRootPassword = false;
  for (;;) {
    try {
      seedRun = await connect(
        retiredRootPassword ? connectionStrings(settings, RETIRED_ROOT_PASSWORD).seed : urls.seed,
      );
      await seedRun('admin', { ping: 1 });
      break;
    } catch (error) {
      if (isAuthenticationFailure(error)) {
        if (retiredRootPassword) throw new Error(rootPasswordMismatch(settings));
        // A data directory from before generated passwords: try the retired default once.
        retiredRootPassword = true;
        log(
          `the administrator ${settings.rootUser} cannot log in with the generated password; trying the retired default`,
        );
        continue;
      }
      if (Date.now() >= deadline) throw new Error(`cannot reach ${settings.members[0]}: ${error.message}`);
      log(`waiting for ${settings.members[0]}: ${error.message}`);
      await pause(2_000);
    }
  }
  if (retiredRootPassword) {
    await seedRun('admin', { updateUser: settings.rootUser, pwd: settings.rootPassword });
    log(`the administrator ${settings.rootUser} had the retired default password: changed to the generated one`);
  }
  const replicaSet = await ensureReplicaSet(seedRun, replicaSetConfig(settings.replicaSet, settings.members), log);
  const primary = await waitForPrimary(seedRun, { timeoutMs: Math.max(1, deadline - Date.now()), sleep: pause });
  log(`primary is ${primary}`);
  const setRun = await connect(urls.replicaSet);
  const users = await ensureUsers(setRun, 'admin', serviceUsers(settings), log);
  const warnings = await ensureIndexes(setRun, settings.dbName, settings.stocksCollection, log);
  return { replicaSet, primary, users, warnings };
}

function isAuthenticationFailure(error) {
  return (
    hasCode(error, codes.AuthenticationFailed, 'AuthenticationFailed') ||
    /Authentication failed/i.test(String(error?.message))
  );
}

/** What to do when neither the generated nor the retired password lets the administrator in. */
function rootPasswordMismatch(settings) {
  return (
    `the administrator ${settings.rootUser} can log in neither with the generated password nor with the retired ` +
    'default: this data was made with another MONGO_ROOT_PASSWORD (an .env from before generated passwords). ' +
    'Give it that password once: `docker compose run --rm --no-deps -T secrets import < old.env` (an .env holding ' +
    'MONGO_ROOT_PASSWORD=<that password>), then `docker compose up -d` (README, "Upgrading")'
  );
}

module.exports = {
  RETIRED_ROOT_PASSWORD,
  codes,
  connectionStrings,
  ensureIndexes,
  ensureReplicaSet,
  ensureUsers,
  indexPlan,
  main,
  memberMismatch,
  parseMembers,
  replicaSetConfig,
  secretFromEnv,
  serviceUsers,
  settingsFromEnv,
  waitForPrimary,
};
