import { companyListSchema, DEFAULT_COMPANIES, envInt, envUrl, parseEnv } from '@stockmarket/common';
import { z } from 'zod';

/** The compose one-shot's settings (`docker compose --profile drill run --rm drill …`). */
export const drillConfigShape = {
  /** The page as a browser reaches it: NGINX, inside the compose network. */
  DRILL_URL: envUrl(['http:', 'https:'], 'http://nginx:3000'),
  COMPANIES: companyListSchema.default([...DEFAULT_COMPANIES]),
  /** The compose project to break (default: the project of the drill's own container). */
  DRILL_COMPOSE_PROJECT: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/, 'not a compose project name')
    .optional(),
  /** How long a held fault (stop, pause, partition, a replica down) lasts. */
  DRILL_HOLD_MS: envInt(15_000, 1_000, 600_000),
  /** How long the page may take to be fresh again after the heal. */
  DRILL_RECOVERY_TIMEOUT_MS: envInt(120_000, 10_000, 1_800_000),
  /** How long to wait for the minutes the drills spanned to be reconciled (grace period included). */
  DRILL_VERDICT_TIMEOUT_MS: envInt(300_000, 60_000, 3_600_000),
};

export type DrillConfig = ReturnType<typeof loadDrillConfig>;

export function loadDrillConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseEnv(drillConfigShape, env);
}
