// The mongo-init one-shot of docker compose: `mongosh --nodb --quiet --file /mongo-init/init.js`.
// The logic lives in setup.cjs (tested against FerretDB with the Node driver); this file only
// adapts mongosh to it. mongosh runs script files without top-level await, so the run is started
// as a promise and the script sleeps until it settles, then exits 0 or 1.
// mongosh sets __dirname for script files: setup.cjs sits next to this one.
const setup = require(`${__dirname}/setup.cjs`);

const stamp = () => new Date().toISOString();
const log = (message) => print(`${stamp()} mongo-init: ${message}`);
// Inside setup.cjs, mongosh's runCommand returns a promise that rejects on `ok: 0`.
const connect = async (url) => {
  const conn = new Mongo(url);
  return (dbName, command) => conn.getDB(dbName).runCommand(command);
};

let outcome;
try {
  const settings = setup.settingsFromEnv(process.env);
  setup.main(settings, connect, log).then(
    (result) => {
      outcome = { ok: true, result };
    },
    (error) => {
      outcome = { ok: false, error };
    },
  );
} catch (error) {
  outcome = { ok: false, error };
}
while (outcome === undefined) sleep(100);

if (outcome.ok) {
  log(`done: replica set ${outcome.result.replicaSet.action}, primary ${outcome.result.primary}`);
  quit(0);
} else {
  log(`failed: ${outcome.error.message}`);
  quit(1);
}
