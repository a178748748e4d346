import { envBool, envInt, parseEnv, setting } from '@stockmarket/common';
import { z } from 'zod';

/**
 * The local stack's, the tests' and the drills' own settings (README's table is generated from
 * these: `npm run settings`). The services' settings are theirs; the stack passes them per process.
 */
export const stackConfigShape = {
  STACK_PORT: setting(envInt(3000, 1, 65_535), '`npm run stack`: the NGINX port'),
  STACK_LIVEVIEWS: setting(envInt(2, 1, 16), '`npm run stack`: liveview replicas'),
  STACK_CONSUMERS: setting(envInt(1, 1, 16), '`npm run stack`: consumer replicas'),
  STACK_BROKERS: setting(
    z
      .enum(['1', '3'])
      .transform(Number)
      .pipe(z.union([z.literal(1), z.literal(3)]))
      .default(1),
    '`npm run stack`: RabbitMQ nodes, `1` or `3` (a cluster with quorum queues)',
    '`1`',
  ),
  COMPANY_QUEUES_DURABLE: setting(
    envBool(true),
    "`npm run stack`: `false` runs the compatibility mode of the course's original programs (non-durable company queues)",
  ),
  DRILL_RATE: setting(
    envInt(300, 1, 10_000),
    "`npm run drill`, `npm run soak`: the publisher's trades per second while the drills run",
  ),
  SOAK_MINUTES: setting(
    envInt(10, 1, 1_440),
    '`npm run soak`: how long the drills cycle (at least one full cycle of every scenario; docs/reconciliation.md, "Soak")',
  ),
  STOCKMARKET_SOAK_TESTS: setting(
    envBool(false),
    '`true`: run the soak with the integration tests (`npm run soak` sets it; about `SOAK_MINUTES` + 5 min)',
  ),
  STOCKMARKET_BROKER_CLUSTER_TESTS: setting(
    envBool(true),
    "`false`: leave out the broker cluster's fault rows (three RabbitMQ nodes, partitions with iptables: they need root; about 3 min; docs/reliability.md)",
  ),
  STOCKMARKET_COMPOSE_TESTS: setting(
    envBool(true),
    '`false`: leave out the compose file on a private Docker engine (tests/src/compose/; needs root; about 10 min; docs/testing.md)',
  ),
  STOCKMARKET_CACHE_DIR: setting(
    z.string().optional(),
    'Built and downloaded tools (FerretDB, the RabbitMQ root, Node.js), also used by `scripts/setup.sh`',
    '`.cache/`',
  ),
  FERRETDB_BIN: setting(z.string().optional(), 'A FerretDB binary to use instead', 'the one `scripts/setup.sh` builds'),
  STOCKMARKET_RABBITMQ_ROOT: setting(
    z.string().optional(),
    'The root RabbitMQ runs chrooted in (4.x from Debian trixie)',
    'the one `scripts/rabbitmq-root.sh` makes',
  ),
  STOCKMARKET_RUN_DIR: setting(
    z.string().optional(),
    'Private data and log directories of the servers tests start',
    '`$TMPDIR/stockmarket`',
  ),
  CHROMIUM_PATH: setting(z.string().default('/usr/bin/chromium'), 'The browser the page tests drive'),
  /** Handed on to the processes the stack starts (servers and services find their tools by it); not a setting. */
  PATH: z.string().default('/usr/bin:/bin'),
  HOME: z.string().optional(),
};

/** The stack's settings, parsed once when it is loaded (a bad value stops it, naming the variable). */
export const stackConfig = parseEnv(stackConfigShape, process.env);
