import { companySchema } from '@stockmarket/common';
import type { Response } from 'express';
import { z } from 'zod';

export const stocksQuery = z.object({}).strict();

export const candlesQuery = z
  .object({
    company: companySchema,
    interval: z.enum(['1s', '1m'], { message: 'interval must be 1s or 1m' }).default('1s'),
    limit: z.coerce
      .number({ message: 'limit must be a number' })
      .int('limit must be a whole number')
      .min(1, 'limit must be at least 1')
      .max(10_000, 'limit must be at most 10000')
      .default(300),
  })
  .strict();

export const tradesQuery = z
  .object({
    company: companySchema,
    limit: z.coerce
      .number({ message: 'limit must be a number' })
      .int('limit must be a whole number')
      .min(1, 'limit must be at least 1')
      .max(200, 'limit must be at most 200')
      .default(20),
  })
  .strict();

const MINUTE = 60_000;
/** Most minutes one /api/reconciliation answer spans (a day). */
export const RECONCILIATION_MAX_MINUTES = 1_440;

const epochMs = (name: string) =>
  z.coerce
    .number({ message: `${name} must be a number (epoch ms)` })
    .int(`${name} must be a whole number of ms`)
    .min(0, `${name} must not be negative`)
    .max(8.64e15, `${name} is not a valid time`);

/**
 * `/api/reconciliation?company=&from=&to=`: every company unless one is named; `from`/`to` in
 * epoch ms, floored to their minute (default: the last 15 minutes), at most a day apart.
 */
export const reconciliationQuery = (now: number) =>
  z
    .object({
      company: companySchema.optional(),
      from: epochMs('from').optional(),
      to: epochMs('to').optional(),
    })
    .strict()
    .transform(({ company, from, to }) => {
      const end = Math.floor((to ?? now) / MINUTE) * MINUTE;
      const start = Math.floor((from ?? end - 14 * MINUTE) / MINUTE) * MINUTE;
      return { company, from: start, to: end };
    })
    .refine((query) => query.from <= query.to, { message: 'from must not be after to', path: ['from'] })
    .refine((query) => query.to - query.from < RECONCILIATION_MAX_MINUTES * MINUTE, {
      message: `from and to must be less than ${RECONCILIATION_MAX_MINUTES} minutes apart`,
      path: ['to'],
    });

export function badRequest(response: Response, error: z.ZodError): void {
  response.status(400).json({
    error: 'bad query',
    details: error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`),
  });
}
