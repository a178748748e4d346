import { envBool, envInt, parseEnv } from '@stockmarket/common';
import { z } from 'zod';

/**
 * The local stack's own settings, parsed once when the stack is loaded (a bad value stops it,
 * naming the variable). The services' settings are theirs; the stack passes them per process.
 */
export const stackConfig = parseEnv(
  {
    /** Built tools (FerretDB); default .cache/ in the repository. */
    STOCKMARKET_CACHE_DIR: z.string().optional(),
    /** A FerretDB binary to use instead of the one scripts/setup.sh builds. */
    FERRETDB_BIN: z.string().optional(),
    /** Where servers keep their private data and logs; default $TMPDIR/stockmarket. */
    STOCKMARKET_RUN_DIR: z.string().optional(),
    /** The root RabbitMQ runs chrooted in; default the trixie root of scripts/rabbitmq-root.sh (4.x). */
    STOCKMARKET_RABBITMQ_ROOT: z.string().optional(),
    CHROMIUM_PATH: z.string().default('/usr/bin/chromium'),
    /** `npm run stack`: NGINX port, liveview replicas, consumer replicas. */
    STACK_PORT: envInt(3000, 1, 65_535),
    STACK_LIVEVIEWS: envInt(2, 1, 16),
    STACK_CONSUMERS: envInt(1, 1, 16),
    /** `npm run stack`: 1 broker node, or 3 forming a cluster with quorum queues. */
    STACK_BROKERS: z
      .enum(['1', '3'])
      .transform(Number)
      .pipe(z.union([z.literal(1), z.literal(3)]))
      .default(1),
    /** `npm run drill`: the publisher's total rate while the drills run (trades/s). */
    DRILL_RATE: envInt(300, 1, 10_000),
    /** `npm run stack`: false runs the compatibility mode of the course's original programs. */
    COMPANY_QUEUES_DURABLE: envBool(true),
    /** Runs the three-node broker cluster's fault rows (tests/src/faults/broker-cluster…); they need root and iptables. */
    STOCKMARKET_BROKER_CLUSTER_TESTS: envBool(true),
    /** Runs the compose file on a private Docker engine (tests/src/compose/); needs root. */
    STOCKMARKET_COMPOSE_TESTS: envBool(true),
    /** Handed on to the processes the stack starts (servers and services find their tools by it). */
    PATH: z.string().default('/usr/bin:/bin'),
    HOME: z.string().optional(),
  },
  process.env,
);
