// Renders rabbitmq/definitions.json with the passwords of docker compose's .env.
//
// definitions.json (shared with the local stack) carries password hashes of the development
// passwords `<user>-dev-password`. In docker compose, the one-shot `rabbitmq-definitions` service
// runs this script before the broker starts:
//   node render-definitions.mjs <template> <output>
// and replaces each user's hash with one of RABBITMQ_<USER>_PASSWORD (for example
// RABBITMQ_PUBLISHER_PASSWORD), so the broker boots with .env's passwords and no plaintext
// password is ever written. A user without such a variable keeps the committed hash.
// No dependencies: it runs in the plain node image.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * RabbitMQ's rabbit_password_hashing_sha256: base64(salt ++ sha256(salt ++ utf8(password)))
 * with a 4-byte random salt.
 */
export function hashPassword(password, salt = randomBytes(4)) {
  if (salt.length !== 4) throw new Error('the salt must be 4 bytes');
  const digest = createHash('sha256').update(salt).update(Buffer.from(password, 'utf8')).digest();
  return Buffer.concat([salt, digest]).toString('base64');
}

/** True when `hash` (as in definitions.json) is the sha256 hash of `password`. */
export function checkPassword(password, hash) {
  const bytes = Buffer.from(hash, 'base64');
  return bytes.length === 36 && hashPassword(password, bytes.subarray(0, 4)) === hash;
}

/** `RABBITMQ_<USER>_PASSWORD`, with the user name upper-cased and non-alphanumerics as `_`. */
export function passwordVariable(user) {
  return `RABBITMQ_${user.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PASSWORD`;
}

/** A copy of the definitions with the hashes of the users whose password `env` sets. */
export function renderDefinitions(definitions, env) {
  const rendered = structuredClone(definitions);
  const changed = [];
  for (const user of rendered.users ?? []) {
    const password = env[passwordVariable(user.name)];
    if (password === undefined || password === '') continue;
    user.password_hash = hashPassword(password);
    user.hashing_algorithm = 'rabbit_password_hashing_sha256';
    changed.push(user.name);
  }
  return { definitions: rendered, changed };
}

function cli([template, output]) {
  if (!template || !output) throw new Error('usage: node render-definitions.mjs <template.json> <output.json>');
  const { definitions, changed } = renderDefinitions(JSON.parse(readFileSync(template, 'utf8')), process.env);
  // Write then rename, so the broker never reads half a file.
  writeFileSync(`${output}.tmp`, `${JSON.stringify(definitions, null, 2)}\n`, { mode: 0o644 });
  renameSync(`${output}.tmp`, output);
  const kept = (definitions.users ?? []).map((user) => user.name).filter((name) => !changed.includes(name));
  console.log(
    JSON.stringify({
      msg: 'rabbitmq definitions rendered',
      output,
      passwordsFromEnv: changed,
      developmentDefaults: kept,
    }),
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    cli(process.argv.slice(2));
  } catch (error) {
    console.error(`render-definitions: ${error.message}`);
    process.exit(1);
  }
}
