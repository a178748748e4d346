import type { Trade } from '@stockmarket/common';
import { normalSampler, seededRandom } from './random.js';

export interface SymbolParams {
  /** Price of the first trade. */
  readonly start: number;
  /** Standard deviation of one trade's log return. */
  readonly volatility: number;
  /** Mean of one trade's log return. */
  readonly drift: number;
}

/** Realistic start prices (late 2024 levels); symbols not listed start at 100. */
export const START_PRICES: Readonly<Record<string, number>> = {
  AAPL: 228.5,
  MSFT: 415.3,
  TSLA: 417.3,
  AMZN: 197.1,
  GOOG: 170.6,
  NVDA: 141.9,
  META: 563.1,
};

export type SimulatedTrade = Required<Pick<Trade, 'company' | 'eventType' | 'price' | 'quantity'>>;

/**
 * One geometric random walk per company: log(price) moves by drift + volatility * N(0,1) per
 * trade, so prices stay positive. Companies take turns, so each trades at the same pace.
 */
export class TradeSimulator {
  private readonly prices: number[];
  private readonly normal: () => number;
  private turn = 0;

  constructor(
    private readonly companies: readonly string[],
    private readonly params: (company: string) => SymbolParams,
    private readonly random: () => number = seededRandom(Date.now() >>> 0),
  ) {
    this.normal = normalSampler(random);
    this.prices = companies.map((company) => params(company).start);
  }

  next(): SimulatedTrade {
    const index = this.turn;
    this.turn = (this.turn + 1) % this.companies.length;
    const company = this.companies[index] as string;
    const { volatility, drift } = this.params(company);
    const shock = this.normal();
    const previous = this.prices[index] as number;
    // Floored at one cent, so a long fall can never underflow to a zero the walk cannot leave.
    const price = Math.max(MIN_PRICE, previous * Math.exp(drift + volatility * shock));
    this.prices[index] = price;
    // Buyers lift the offer when the price ticks up, sellers hit the bid when it ticks down.
    const eventType = shock > 0 ? 'buy' : shock < 0 ? 'sell' : this.random() < 0.5 ? 'buy' : 'sell';
    // Round lots are common, odd lots frequent: a heavy-tailed size between 1 and ~1,000.
    const quantity = Math.max(1, Math.round(Math.exp(this.random() * 7)));
    return { company, eventType, price: roundPrice(price), quantity };
  }
}

const MIN_PRICE = 0.01;

/** Cents as exchanges quote them, but never zero: prices stay strictly positive. */
function roundPrice(price: number): number {
  return Math.max(MIN_PRICE, Math.round(price * 100) / 100);
}

export function symbolParamsFor(
  overrides: Readonly<Record<string, { start?: number; volatility?: number; drift?: number }>>,
  volatility: number,
  drift: number,
): (company: string) => SymbolParams {
  return (company) => {
    const custom = overrides[company] ?? {};
    return {
      start: custom.start ?? START_PRICES[company] ?? 100,
      volatility: custom.volatility ?? volatility,
      drift: custom.drift ?? drift,
    };
  };
}
