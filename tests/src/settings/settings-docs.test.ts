import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '@stockmarket/stack';
import { loadMongoInitSetup } from '../mongo-init-setup.js';
import {
  composePassedNames,
  dotenvProblems,
  generatedFiles,
  parseDotenv,
  SETTINGS_COMMAND,
  serviceNames,
  settingsOf,
} from './settings-docs.js';

// Like a formatter's check: the generated files must be what the schemas say.
for (const file of generatedFiles(repoRoot)) {
  test(`${file.path} is generated from the settings' schemas`, () => {
    const actual = readFileSync(join(repoRoot, file.path), 'utf8');
    if (file.compare(actual) === file.compare(file.expected)) return;
    const have = file.compare(actual).split('\n');
    const want = file.compare(file.expected).split('\n');
    const line = want.findIndex((text, i) => text !== have[i]);
    assert.fail(
      `${file.path} is out of date: run \`${SETTINGS_COMMAND}\` and commit the result.\n` +
        `first difference, line ${line + 1}:\n  have: ${have[line] ?? '(end of file)'}\n  want: ${want[line] ?? '(end of file)'}`,
    );
  });
}

test('.env holds only what compose changes: no service default repeated, no unknown name', () => {
  const problems = dotenvProblems(
    parseDotenv(readFileSync(join(repoRoot, '.env'), 'utf8')),
    composePassedNames(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')),
  );
  assert.deepEqual(problems, []);
});

test('every setting of every service has a description, and shared ones say the same everywhere', () => {
  const seen = new Map<string, string>();
  for (const service of serviceNames) {
    for (const setting of settingsOf(service)) {
      assert.ok(setting.description.length > 10, `${service}: ${setting.name}`);
      // RABBITMQ_URL's default names each service's own user; everything else shared is one schema.
      if (setting.name === 'RABBITMQ_URL') continue;
      const key = `${setting.shown} ${setting.description}`;
      assert.equal(seen.get(setting.name) ?? key, key, `${setting.name} differs between services`);
      seen.set(setting.name, key);
    }
  }
});

// The broker's and the database's set-up scripts are plain JavaScript run in other images
// (mongosh, the definitions one-shot) and keep their own fallbacks for the variables compose
// passes them by name: they must be the schemas' defaults.
test("mongo-init's and the broker definitions' fallbacks are the schemas' defaults", async () => {
  const defaults = new Map(settingsOf('consumer').map((s) => [s.name, s.default]));
  const passwords = { MONGO_ROOT_USERNAME: 'a', MONGO_ROOT_PASSWORD: 'b', MONGO_CONSUMER_PASSWORD: 'c' };
  const mongoInit = loadMongoInitSetup().settingsFromEnv({ ...passwords, MONGO_LIVEVIEW_PASSWORD: 'd' });
  assert.equal(mongoInit.dbName, defaults.get('MONGODB_DB'));
  assert.equal(mongoInit.stocksCollection, defaults.get('MONGODB_COLLECTION'));
  const definitions = (await import(pathToFileURL(join(repoRoot, 'rabbitmq', 'render-definitions.mjs')).href)) as {
    companyQueuesDurable(env: Record<string, string>): boolean;
  };
  assert.equal(String(definitions.companyQueuesDurable({})), defaults.get('COMPANY_QUEUES_DURABLE'));
});
