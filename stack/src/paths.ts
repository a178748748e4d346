import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stackConfig } from './config.js';

/** The repository root (this file is stack/dist/paths.js once built). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

export const cacheDir = stackConfig.STOCKMARKET_CACHE_DIR ?? join(repoRoot, '.cache');

/** Benchmark results (git-ignored except the committed reference run). */
export const resultsDir = join(repoRoot, 'bench', 'results');

export const ferretdbBinary = stackConfig.FERRETDB_BIN ?? join(cacheDir, 'ferretdb', 'ferretdb-v1.24.2-idfix');

export function serviceEntry(service: 'publisher' | 'consumer' | 'liveview'): string {
  const entry = join(repoRoot, service, 'dist', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run "npm run build" first`);
  return entry;
}

/** Where every server's private directory is made (the broker's root mounts it at this path). */
export const runBase = stackConfig.STOCKMARKET_RUN_DIR ?? join(tmpdir(), 'stockmarket');

/**
 * The Debian trixie root that RabbitMQ 4.x runs in (scripts/rabbitmq-root.sh builds it, setup
 * links the current one here); STOCKMARKET_RABBITMQ_ROOT names another (e.g. a newer build).
 */
export const rabbitmqRoot = stackConfig.STOCKMARKET_RABBITMQ_ROOT ?? join(cacheDir, 'roots', 'trixie-rabbitmq');

/** A fresh private directory for one server's data and logs. */
export function makeRunDir(prefix: string): string {
  const base = runBase;
  mkdirSync(base, { recursive: true });
  return mkdtempSync(join(base, `${prefix}-`));
}
