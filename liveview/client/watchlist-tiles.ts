// The watchlist: one tile per company (price with a flash on each move, session change, range,
// volume, VWAP, buy/sell split, sparkline), in ticker order; arrow keys move between tiles.
import type { SessionStats, StockView } from '@stockmarket/common';
import { $ } from './dom.js';
import { localTime, price, volume } from './format.js';
import { candles, newestCandles, priceOf, selection, seriesKey, sessions, stocks } from './market-state.js';

const SPARK_POINTS = 60;

const TILE = `<button type="button" class="tile" aria-pressed="false">
  <span class="tile-head"><span class="ticker"></span><span class="price" data-field="price"></span></span>
  <span class="row"><span class="change" data-field="change"></span><span class="muted">H/L <span data-field="range"></span></span></span>
  <span class="row muted"><span>Vol <span data-field="volume"></span></span><span>VWAP <span data-field="vwap"></span></span></span>
  <span class="row muted"><span>Batch avg <span data-field="avgPrice"></span></span><span data-field="time"></span></span>
  <span class="split"><span class="split-buy" data-field="split-bar"></span></span>
  <span class="row muted small"><span data-field="split"></span></span>
  <svg class="spark" viewBox="0 0 100 30" preserveAspectRatio="none" aria-hidden="true"><polyline points=""></polyline></svg>
</button>`;

/** Closes of the newest 1 s candles (seeded by the snapshot and the history), coloured by direction. */
function renderSpark(item: HTMLLIElement, company: string, session: SessionStats | undefined): void {
  const closes = newestCandles(company, '1s', SPARK_POINTS).map((candle) => candle.close);
  const polyline = item.querySelector('polyline');
  if (!polyline || closes.length === 0) return;
  const min = Math.min(...closes);
  const max = Math.max(...closes);
  const points = closes
    .map((value, index) => {
      const x = closes.length === 1 ? 100 : (index / (closes.length - 1)) * 100;
      const y = max === min ? 15 : 28 - ((value - min) / (max - min)) * 26;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
  polyline.setAttribute('points', points);
  const reference = session?.open ?? closes[0] ?? 0;
  polyline.setAttribute('class', (closes.at(-1) ?? 0) >= reference ? 'spark-up' : 'spark-down');
}

const previousPrice = new Map<string, number>();
function renderTile(item: HTMLLIElement, company: string, stock: StockView): void {
  const field = (name: string) => item.querySelector(`[data-field="${name}"]`) as HTMLElement;
  const button = item.querySelector('button') as HTMLButtonElement;
  button.setAttribute('aria-pressed', String(company === selection.company));
  const session = sessions.get(company);
  const current = priceOf(stock);
  const priceField = field('price');
  const before = previousPrice.get(company);
  if (before !== undefined && before !== current) {
    // A short flash in the direction of the move (Web Animations: allowed by the CSP).
    priceField.animate(
      [
        { backgroundColor: current > before ? 'rgba(63,185,80,0.45)' : 'rgba(255,123,114,0.45)' },
        { backgroundColor: 'transparent' },
      ],
      { duration: 700, easing: 'ease-out' },
    );
    priceField.dataset.move = current > before ? 'up' : 'down';
  }
  previousPrice.set(company, current);
  priceField.textContent = price(current);
  const changeField = field('change');
  if (session) {
    const change = current - session.open;
    const percent = session.open === 0 ? 0 : (change / session.open) * 100;
    const sign = change > 0 ? '+' : change < 0 ? '−' : '±';
    changeField.textContent = `${change > 0 ? '▲' : change < 0 ? '▼' : '■'} ${sign}${Math.abs(change).toFixed(2)} (${sign}${Math.abs(percent).toFixed(2)}%)`;
    changeField.className = `change ${change > 0 ? 'up' : change < 0 ? 'down' : ''}`;
    changeField.dataset.open = String(session.open);
    field('range').textContent = `${price(session.high)}–${price(session.low)}`;
    field('volume').textContent = volume(session.volume);
    field('vwap').textContent = price(session.vwap);
    const buyShare = session.trades > 0 ? session.buys / session.trades : 0.5;
    field('split').textContent = `Buy ${(buyShare * 100).toFixed(0)}% · sell ${((1 - buyShare) * 100).toFixed(0)}%`;
    field('split-bar').style.width = `${(buyShare * 100).toFixed(1)}%`;
  } else {
    changeField.textContent = 'no session data';
    changeField.className = 'change';
    field('range').textContent = '–';
    field('volume').textContent = '–';
    field('vwap').textContent = price(stock.vwap);
    field('split').textContent = '';
  }
  field('avgPrice').textContent = price(stock.avgPrice);
  field('time').textContent = stock.lastTradeAt ? localTime(stock.lastTradeAt) : '';
  renderSpark(item, company, session);
}

function orderTiles(): void {
  const list = $('#tiles');
  for (const item of [...list.querySelectorAll<HTMLLIElement>('li[data-company]')].sort((a, b) =>
    (a.dataset.company ?? '').localeCompare(b.dataset.company ?? ''),
  )) {
    list.append(item);
  }
}

/** Arrow keys move between tiles; only one tile is in the Tab order. */
function rovingFocus(): void {
  const buttons = [...document.querySelectorAll<HTMLButtonElement>('#tiles .tile')];
  const current = buttons.find((button) => button.closest('li')?.dataset.company === selection.company) ?? buttons[0];
  for (const button of buttons) button.tabIndex = button === current ? 0 : -1;
}

export interface WatchlistTiles {
  /** Draws every tile now (the skeletons go on the first call). */
  render(): void;
  /** Draws the tiles on the next frame, once however many updates arrive before it. */
  schedule(): void;
  /** Until the user picks a company, selects the first one that has candles. */
  autoSelect(): void;
  /** Marks the selected company's tile as pressed and puts it in the Tab order. */
  showSelected(): void;
}

export function createWatchlistTiles(select: (company: string) => void): WatchlistTiles {
  function autoSelect(): void {
    if (selection.company) return;
    const charted = [...stocks.keys()].sort().find((company) => candles.has(seriesKey(company, '1s')));
    if (charted) select(charted);
  }

  function render(): void {
    const list = $('#tiles');
    for (const skeleton of list.querySelectorAll('.skeleton')) skeleton.remove();
    list.removeAttribute('aria-busy');
    autoSelect();
    for (const company of [...stocks.keys()].sort()) {
      const stock = stocks.get(company) as StockView;
      let item = list.querySelector<HTMLLIElement>(`li[data-company="${company}"]`);
      if (!item) {
        item = document.createElement('li');
        item.dataset.company = company;
        item.innerHTML = TILE;
        (item.querySelector('.ticker') as HTMLElement).textContent = company;
        const button = item.querySelector('button') as HTMLButtonElement;
        button.addEventListener('click', () => select(company));
        list.append(item);
        orderTiles();
      }
      renderTile(item, company, stock);
    }
    rovingFocus();
  }

  let pending = false;
  function schedule(): void {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      render();
    });
  }

  function showSelected(): void {
    for (const button of document.querySelectorAll<HTMLButtonElement>('.tile')) {
      button.setAttribute('aria-pressed', String(button.closest('li')?.dataset.company === selection.company));
    }
    rovingFocus();
  }

  $('#tiles').addEventListener('keydown', (event) => {
    const buttons = [...document.querySelectorAll<HTMLButtonElement>('#tiles .tile')];
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (index < 0) return;
    const target = {
      ArrowDown: index + 1,
      ArrowRight: index + 1,
      ArrowUp: index - 1,
      ArrowLeft: index - 1,
      Home: 0,
      End: buttons.length - 1,
    }[event.key];
    if (target === undefined) return;
    event.preventDefault();
    const next = buttons[(target + buttons.length) % buttons.length];
    for (const button of buttons) button.tabIndex = button === next ? 0 : -1;
    next?.focus();
  });

  return { render, schedule, autoSelect, showSelected };
}
