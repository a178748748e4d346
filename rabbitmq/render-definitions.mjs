// Renders rabbitmq/definitions.json with the users' passwords and the queues' settings.
//
// definitions.json (shared with the local stack and the chart) carries no password hash: every
// user gets one here, from RABBITMQ_<USER>_PASSWORD_FILE (a file holding the password, as docker
// compose's `secrets` one-shot generates them) or RABBITMQ_<USER>_PASSWORD (the chart's Secret,
// the local stack's per-run passwords). A user without either is an error: no broker boots with a
// known password. In docker compose, the one-shot `rabbitmq-definitions` service runs
//   node render-definitions.mjs <template> <output>
// before the broker starts; only salted hashes are written, never a plaintext password.
// COMPANY_QUEUES_DURABLE=false (default true) declares the company queues (the upper-case
// names, as the dead-lettering policy matches them) non-durable, exactly as the course's original
// programs declare them, so that an original publisher or consumer can share the broker; the
// ledger queue (stockmarket.ledger) follows it too.
// RABBITMQ_QUORUM_QUEUES=true (default false; docker compose's three-node cluster sets it) makes
// every durable queue of the definitions (the company queues, the dead-letter queue) a quorum
// queue, replicated over the cluster; a non-durable queue cannot be one and stays classic. With
// durable company queues it also makes quorum the vhost's default queue type, so that the
// services' declarations without `x-queue-type` match the quorum queues (RabbitMQ 4 compares an
// absent type with the vhost's default) and a ticker added through COMPANIES becomes a quorum
// queue too, instead of a classic queue on one node.
// The local stack (stack/src/rabbitmq.ts) renders its definitions with the same function.
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

/** Company queues: named by a ticker, the names the dead-lettering policy applies to. */
export const COMPANY_QUEUE = /^[A-Z0-9.-]+$/;

/**
 * The reconciliation's ledger queue (common/src/ledger.ts) follows COMPANY_QUEUES_DURABLE as the
 * company queues do: a ledger that outlives a broker restart the trades did not would read as a break.
 */
export const LEDGER_QUEUE = 'stockmarket.ledger';

/**
 * A user's password: the file of `<variable>_FILE` (without its trailing newline) or
 * `<variable>`; undefined when neither is set. Errors name the variables and the path, never the
 * content.
 */
export function passwordFromEnv(env, variable) {
  const path = env[`${variable}_FILE`];
  const inline = env[variable];
  if (path === undefined || path === '') return inline === '' ? undefined : inline;
  if (inline !== undefined && inline !== '') throw new Error(`${variable} and ${variable}_FILE are both set: set one`);
  let content;
  try {
    content = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new Error(`${variable}_FILE (${path}): cannot read the file (${error.code ?? error.message})`);
  }
  if (content === '') throw new Error(`${variable}_FILE (${path}): the file is empty`);
  return content;
}

/** COMPANY_QUEUES_DURABLE as the services read it (true/false, 1/0, yes/no; default true). */
export function companyQueuesDurable(env) {
  const value = env.COMPANY_QUEUES_DURABLE;
  if (value === undefined || value === '') return true;
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  throw new Error(`COMPANY_QUEUES_DURABLE must be true or false, got "${value}"`);
}

/** RABBITMQ_QUORUM_QUEUES (true/false, 1/0, yes/no; default false). */
export function quorumQueues(env) {
  const value = env.RABBITMQ_QUORUM_QUEUES;
  if (value === undefined || value === '') return false;
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  throw new Error(`RABBITMQ_QUORUM_QUEUES must be true or false, got "${value}"`);
}

/**
 * A copy of the definitions with each user's hash of its password in `env` (see
 * `passwordFromEnv`; a user without one is an error naming its variable), the
 * company queues' durability of COMPANY_QUEUES_DURABLE, and the durable queues as quorum queues
 * when RABBITMQ_QUORUM_QUEUES is true.
 */
export function renderDefinitions(definitions, env) {
  const rendered = structuredClone(definitions);
  const durable = companyQueuesDurable(env);
  const quorum = quorumQueues(env);
  for (const queue of rendered.queues ?? []) {
    if (COMPANY_QUEUE.test(queue.name) || queue.name === LEDGER_QUEUE) queue.durable = durable;
    if (quorum && queue.durable) queue.arguments = { ...queue.arguments, 'x-queue-type': 'quorum' };
  }
  // Not with non-durable company queues: the original programs' `durable=false` declarations
  // must create classic queues, as on a single node.
  if (quorum && durable) {
    for (const vhost of rendered.vhosts ?? []) {
      vhost.default_queue_type = 'quorum';
      vhost.metadata = { ...vhost.metadata, default_queue_type: 'quorum' };
    }
  }
  const changed = [];
  const missing = [];
  for (const user of rendered.users ?? []) {
    const password = passwordFromEnv(env, passwordVariable(user.name));
    if (password === undefined) {
      missing.push(`${passwordVariable(user.name)}_FILE`);
      continue;
    }
    user.password_hash = hashPassword(password);
    user.hashing_algorithm = 'rabbit_password_hashing_sha256';
    changed.push(user.name);
  }
  if (missing.length > 0) throw new Error(`no password for every user: set ${missing.join(', ')}`);
  return { definitions: rendered, changed, companyQueuesDurable: durable, quorumQueues: quorum };
}

function cli([template, output]) {
  if (!template || !output) throw new Error('usage: node render-definitions.mjs <template.json> <output.json>');
  const {
    definitions,
    changed,
    companyQueuesDurable: durable,
    quorumQueues: quorum,
  } = renderDefinitions(JSON.parse(readFileSync(template, 'utf8')), process.env);
  // Write then rename, so the broker never reads half a file.
  writeFileSync(`${output}.tmp`, `${JSON.stringify(definitions, null, 2)}\n`, { mode: 0o644 });
  renameSync(`${output}.tmp`, output);
  console.log(
    JSON.stringify({
      msg: 'rabbitmq definitions rendered',
      output,
      passwordsFor: changed,
      companyQueuesDurable: durable,
      quorumQueues: quorum,
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
