import { companiesShape, envInt, envUrl, parseEnv, setting } from '@stockmarket/common';
import { z } from 'zod';

/** The compose one-shot's settings (`docker compose --profile drill run --rm drill …`). */
export const drillConfigShape = {
  DRILL_URL: setting(
    envUrl(['http:', 'https:'], 'http://nginx:3000'),
    'The page as a browser reaches it: NGINX, inside the compose network',
  ),
  ...companiesShape,
  DRILL_COMPOSE_PROJECT: setting(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]*$/, 'not a compose project name')
      .optional(),
    "The compose project to break; unset: the project of the drill's own container",
  ),
  DRILL_HOLD_MS: setting(
    envInt(15_000, 1_000, 600_000),
    'How long a held fault lasts (a stop, a pause, a partition: twice this, a replica kept down)',
  ),
  DRILL_RECOVERY_TIMEOUT_MS: setting(
    envInt(120_000, 10_000, 1_800_000),
    'How long the page may take to be fresh again after a heal before the drill fails',
  ),
  DRILL_VERDICT_TIMEOUT_MS: setting(
    envInt(300_000, 60_000, 3_600_000),
    'How long to wait for every minute the drills spanned to be reconciled (the grace period included)',
  ),
};

export type DrillConfig = ReturnType<typeof loadDrillConfig>;

export function loadDrillConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseEnv(drillConfigShape, env);
}
