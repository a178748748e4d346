// The trade tape: the newest trades of the selected company, from /api/trades, at most once a second.
import { $ } from './dom.js';
import { localTime, price } from './format.js';
import { selection } from './market-state.js';

const TAPE_ROWS = 20;
let tapeAt = 0;
let tapeBusy = false;

/** Reloads the tape; `force` skips the once-a-second limit (a new selection). */
export async function refreshTape(force = false): Promise<void> {
  if (!selection.company || tapeBusy || (!force && Date.now() - tapeAt < 1000) || document.hidden) return;
  tapeBusy = true;
  tapeAt = Date.now();
  const company = selection.company;
  try {
    const response = await fetch(`api/trades?company=${encodeURIComponent(company)}&limit=${TAPE_ROWS}`);
    if (!response.ok) return;
    const body = (await response.json()) as {
      trades: { ts: number; side: 'buy' | 'sell'; quantity: number; price: number }[];
    };
    if (company !== selection.company) return;
    const rows = body.trades.map((trade) => {
      const row = document.createElement('tr');
      row.className = trade.side;
      for (const [text, numeric] of [
        [localTime(trade.ts), false],
        [trade.side, false],
        [String(trade.quantity), true],
        [price(trade.price), true],
      ] as const) {
        const cell = document.createElement('td');
        cell.textContent = text;
        if (numeric) cell.className = 'num';
        row.append(cell);
      }
      return row;
    });
    $('#tape').replaceChildren(...rows);
  } catch (error) {
    console.warn('trade tape not loaded', error);
  } finally {
    tapeBusy = false;
  }
}
