import { z } from 'zod';
import { commaSeparated } from './config.js';
import { companySchema } from './trade.js';

export const DEFAULT_COMPANIES = ['AAPL', 'MSFT', 'TSLA'] as const;

/** Parses a comma-separated list of tickers such as `AAPL,MSFT,TSLA` (env format). */
export const companyListSchema = commaSeparated
  .pipe(z.array(companySchema).min(1, 'needs at least one ticker'))
  .refine((list) => new Set(list).size === list.length, 'tickers must be unique');
