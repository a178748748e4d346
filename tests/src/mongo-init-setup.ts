// mongo-init/setup.cjs (plain CommonJS, run by mongosh in docker compose) as the tests load it.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { PlannedIndex } from '@stockmarket/common';
import { repoRoot } from '@stockmarket/stack';

export type Run = (db: string, command: Record<string, unknown>) => Promise<Record<string, unknown>>;
export interface MongoInitSetup {
  indexPlan(stocksCollection: string): PlannedIndex[];
  ensureIndexes(run: Run, dbName: string, stocksCollection: string, log?: (line: string) => void): Promise<string[]>;
  ensureUsers(run: Run, authDb: string, users: unknown[]): Promise<unknown>;
  ensureReplicaSet(run: Run, config: unknown): Promise<unknown>;
  settingsFromEnv(env: Record<string, string>): Record<string, unknown>;
  main(
    settings: Record<string, unknown>,
    connect: (url: string) => Promise<Run>,
    log?: (line: string) => void,
    sleep?: (ms: number) => Promise<void>,
  ): Promise<{ replicaSet: { action: string }; primary: string; users: unknown[]; warnings: string[] }>;
}

export function loadMongoInitSetup(): MongoInitSetup {
  return createRequire(import.meta.url)(join(repoRoot, 'mongo-init', 'setup.cjs')) as MongoInitSetup;
}
