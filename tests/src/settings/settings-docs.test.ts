import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '@stockmarket/stack';
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
