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

export function badRequest(response: Response, error: z.ZodError): void {
  response.status(400).json({
    error: 'bad query',
    details: error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`),
  });
}
