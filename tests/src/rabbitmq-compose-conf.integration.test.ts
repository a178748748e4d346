// rabbitmq/compose.conf's memory setting on a real broker: with the container's limit as the
// memory RabbitMQ sees, the alarm's threshold (vm_memory_high_watermark.relative of the shared
// rabbitmq.conf) is a share of the container's 768M, not of the host's memory.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RabbitMqServer, repoRoot } from '@stockmarket/stack';

const composeConf = readFileSync(join(repoRoot, 'rabbitmq', 'compose.conf'), 'utf8');
const shared = readFileSync(join(repoRoot, 'rabbitmq', 'rabbitmq.conf'), 'utf8');
let rabbitmq: RabbitMqServer;

before(async () => {
  // compose.conf without its load_definitions (the rendered file exists only in compose).
  const extraConfig = composeConf.replace(/^load_definitions = .*$/m, '');
  rabbitmq = await RabbitMqServer.start({ extraConfig });
});
after(async () => {
  await rabbitmq?.stop();
});

test("the memory alarm fires at the watermark's share of the container's limit", async () => {
  const total = Number(/^total_memory_available_override_value = (\d+)$/m.exec(composeConf)?.[1]);
  const relative = Number(/^vm_memory_high_watermark\.relative = ([\d.]+)$/m.exec(shared)?.[1]);
  assert.ok(total > 0 && relative > 0 && relative < 1, 'both settings present');
  const limit = Number((await rabbitmq.ctl('eval', 'vm_memory_monitor:get_memory_limit().')).trim());
  assert.equal(limit, Math.floor(total * relative), `alarm at ${limit} bytes`);
});

test("quorum queues' write-ahead log is capped below the container's memory (raft.wal_max_size_bytes)", async () => {
  const configured = Number(/^raft\.wal_max_size_bytes = (\d+)$/m.exec(shared)?.[1]);
  const total = Number(/^total_memory_available_override_value = (\d+)$/m.exec(composeConf)?.[1]);
  // The WAL is held in memory until it reaches this size: a small share of the container's limit.
  assert.ok(configured > 0 && configured <= total / 8, `${configured} bytes against a ${total}-byte container`);
  const applied = (await rabbitmq.ctl('eval', 'application:get_env(ra, wal_max_size_bytes).')).trim();
  assert.equal(applied, `{ok,${configured}}`);
});
