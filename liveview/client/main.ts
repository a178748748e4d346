import type {
  CandleInterval,
  CandleView,
  HeartbeatMessage,
  SessionStats,
  SnapshotMessage,
  StockView,
  UpdateMessage,
} from '@stockmarket/common';
import {
  type CandlestickData,
  CandlestickSeries,
  ColorType,
  createChart,
  type HistogramData,
  HistogramSeries,
  type IChartApi,
  type IPriceLine,
  type ISeriesApi,
  type LineData,
  LineSeries,
  LineStyle,
  type Time,
  type UTCTimestamp,
  type WhitespaceData,
} from 'lightweight-charts';
import { io } from 'socket.io-client';
import { withGaps } from '../src/chart-gaps.js';
import { formatAge, type Liveness, liveness, toPageClock } from '../src/liveness.js';
import { attachSystemView } from './system-view.js';

const SPARK_POINTS = 60;
const TAPE_ROWS = 20;
const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;

const stocks = new Map<string, StockView>();
const sessions = new Map<string, SessionStats>();
const candles = new Map<string, Map<number, CandleView>>();
/** Series whose history came from the API once: the live feed keeps them current afterwards. */
const historyLoaded = new Set<string>();
let selected: string | undefined;
let interval: CandleInterval = '1s';

// Liveness, all on this page's clock.
let connected = false;
let awaitingSnapshot = false;
let everConnected = false;
let connectedAt = 0;
let heartbeatAt = 0;
let heartbeat: HeartbeatMessage | undefined;
let lastTradeAt = 0;
let replica = '';

const up = '#3fb950';
const down = '#ff7b72';
const pad = (n: number) => String(n).padStart(2, '0');
const localTime = (ms: number, seconds = true) => {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ''}`;
};
const zone = (() => {
  const offset = -new Date().getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '−';
  return `local time (UTC${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)})`;
})();
$('#zone').textContent = zone;

const chart: IChartApi = createChart($('#chart'), {
  autoSize: true,
  layout: {
    background: { type: ColorType.Solid, color: '#18202a' },
    textColor: '#c9d4df',
    // The logo is injected as an inline <style>, which the page's CSP forbids; the attribution
    // the library's licence asks for is in the page footer instead.
    attributionLogo: false,
  },
  grid: { vertLines: { color: '#222c36' }, horzLines: { color: '#222c36' } },
  // Times on the axis and the crosshair in the viewer's time zone (the library shows UTC).
  localization: { timeFormatter: (time: Time) => localTime((time as number) * 1000) },
  timeScale: {
    timeVisible: true,
    secondsVisible: true,
    maxBarSpacing: 14,
    tickMarkFormatter: (time: Time) => localTime((time as number) * 1000, interval === '1s'),
  },
  rightPriceScale: { borderColor: '#2a3541' },
});
const candleSeries: ISeriesApi<'Candlestick'> = chart.addSeries(CandlestickSeries, {
  upColor: up,
  downColor: down,
  borderVisible: false,
  wickUpColor: up,
  wickDownColor: down,
});
const vwapSeries: ISeriesApi<'Line'> = chart.addSeries(LineSeries, {
  color: '#f2cc60',
  lineWidth: 2,
  priceLineVisible: false,
  lastValueVisible: false,
});
const volumeSeries: ISeriesApi<'Histogram'> = chart.addSeries(
  HistogramSeries,
  { priceFormat: { type: 'volume' }, priceLineVisible: false, lastValueVisible: false },
  1,
);
chart.panes()[1]?.setStretchFactor(0.25);
// The library lays its panes out in a <table>: layout, not data (screen readers get the label).
for (const table of $('#chart').querySelectorAll('table')) table.setAttribute('role', 'presentation');
let sessionLine: IPriceLine | undefined;

const price = (value: number | undefined) => (value === undefined ? '–' : value.toFixed(2));
const volume = (value: number) =>
  value >= 1e6 ? `${(value / 1e6).toFixed(2)}M` : value >= 1e4 ? `${(value / 1e3).toFixed(1)}k` : String(value);
const priceOf = (stock: StockView) => stock.lastPrice ?? stock.avgPrice;
const seriesKey = (company: string, candleInterval: CandleInterval) => `${company}:${candleInterval}`;
/** The newest `count` candles, oldest first, without sorting the whole series (called per tick). */
function newestCandles(company: string, candleInterval: CandleInterval, count: number): CandleView[] {
  const series = candles.get(seriesKey(company, candleInterval));
  if (!series) return [];
  const step = candleInterval === '1s' ? 1000 : 60_000;
  let newest = 0;
  for (const start of series.keys()) newest = Math.max(newest, start);
  const from = newest - (count - 1) * step;
  return [...series.values()].filter((candle) => candle.start >= from).sort((a, b) => a.start - b.start);
}
const sortedSeries = (company: string, candleInterval: CandleInterval) =>
  [...(candles.get(seriesKey(company, candleInterval))?.values() ?? [])].sort((a, b) => a.start - b.start);

function mergeCandles(list: readonly CandleView[]): void {
  for (const candle of list) {
    const key = seriesKey(candle.company, candle.interval);
    let series = candles.get(key);
    if (!series) {
      series = new Map();
      candles.set(key, series);
    }
    series.set(candle.start, candle);
    if (series.size > 1200) series.delete(Math.min(...series.keys()));
  }
}

const previousPrice = new Map<string, number>();
function mergeStocks(list: readonly StockView[], received: number, sentAt: number | undefined): void {
  for (const stock of list) stocks.set(stock.company, stock);
  const newest = Math.max(0, ...list.map((stock) => stock.lastTradeAt ?? 0));
  if (newest > 0) noteTrade(newest, sentAt ?? received, received);
}

function noteTrade(replicaTime: number, sentAt: number, received: number): void {
  lastTradeAt = Math.max(lastTradeAt, toPageClock(replicaTime, sentAt, received));
}

/** Until the user picks a company, chart the first one that has candles. */
function autoSelect(): void {
  if (selected) return;
  const charted = [...stocks.keys()].sort().find((company) => candles.has(seriesKey(company, '1s')));
  if (charted) selectCompany(charted);
}

const TILE = `<button type="button" class="tile" aria-pressed="false">
  <span class="tile-head"><span class="ticker"></span><span class="price" data-field="price"></span></span>
  <span class="row"><span class="change" data-field="change"></span><span class="muted">H/L <span data-field="range"></span></span></span>
  <span class="row muted"><span>Vol <span data-field="volume"></span></span><span>VWAP <span data-field="vwap"></span></span></span>
  <span class="row muted"><span>Batch avg <span data-field="avgPrice"></span></span><span data-field="time"></span></span>
  <span class="split"><span class="split-buy" data-field="split-bar"></span></span>
  <span class="row muted small"><span data-field="split"></span></span>
  <svg class="spark" viewBox="0 0 100 30" preserveAspectRatio="none" aria-hidden="true"><polyline points=""></polyline></svg>
</button>`;

function renderTiles(): void {
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
      button.addEventListener('click', () => selectCompany(company));
      list.append(item);
      orderTiles();
    }
    renderTile(item, company, stock);
  }
  rovingFocus();
}

let tilesPending = false;
function scheduleTiles(): void {
  if (tilesPending) return;
  tilesPending = true;
  requestAnimationFrame(() => {
    tilesPending = false;
    renderTiles();
  });
}

function orderTiles(): void {
  const list = $('#tiles');
  for (const item of [...list.querySelectorAll<HTMLLIElement>('li[data-company]')].sort((a, b) =>
    (a.dataset.company ?? '').localeCompare(b.dataset.company ?? ''),
  )) {
    list.append(item);
  }
}

function renderTile(item: HTMLLIElement, company: string, stock: StockView): void {
  const field = (name: string) => item.querySelector(`[data-field="${name}"]`) as HTMLElement;
  const button = item.querySelector('button') as HTMLButtonElement;
  button.setAttribute('aria-pressed', String(company === selected));
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

/** Arrow keys move between tiles; only one tile is in the Tab order. */
function rovingFocus(): void {
  const buttons = [...document.querySelectorAll<HTMLButtonElement>('#tiles .tile')];
  const current = buttons.find((button) => button.closest('li')?.dataset.company === selected) ?? buttons[0];
  for (const button of buttons) button.tabIndex = button === current ? 0 : -1;
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

const time = (ms: number) => (ms / 1000) as UTCTimestamp;
function toBar(candle: CandleView): CandlestickData {
  return { time: time(candle.start), open: candle.open, high: candle.high, low: candle.low, close: candle.close };
}
const toVwap = (candle: CandleView): LineData => ({ time: time(candle.start), value: candle.vwap });
const toVolume = (candle: CandleView): HistogramData => ({
  time: time(candle.start),
  value: candle.volume,
  color: candle.close >= candle.open ? 'rgba(63,185,80,0.5)' : 'rgba(255,123,114,0.5)',
});

/** Missing seconds (or minutes) become empty slots, so an outage shows as a gap, not a jump. */
const gapped = <T>(series: readonly CandleView[], map: (candle: CandleView) => T): (T | WhitespaceData)[] =>
  withGaps<CandleView, T | WhitespaceData>(series, interval === '1s' ? 1000 : 60_000, map, (start) => ({
    time: time(start),
  }));

let lastBarTime = 0;
function renderChart(): void {
  if (!selected) return;
  const series = sortedSeries(selected, interval);
  // A young 1 m history says how young it is, and its few bars may grow wide to fill the width.
  const minutes = interval === '1m' && series.length < 60 ? ` · ${series.length} of 60 minutes so far` : '';
  $('#chart-title').textContent = `${selected} · ${interval}`;
  $('#chart-note').textContent = minutes.replace(' · ', '');
  $('#tape-company').textContent = selected;
  chart.applyOptions({ timeScale: { maxBarSpacing: interval === '1m' ? 60 : 14 } });
  candleSeries.setData(gapped(series, toBar));
  vwapSeries.setData(gapped(series, toVwap));
  volumeSeries.setData(gapped(series, toVolume));
  lastBarTime = series.at(-1)?.start ?? 0;
  // A short history fills the width instead of sitting at the right edge.
  if (series.length > 0 && series.length < 120) chart.timeScale().fitContent();
  renderSessionLine();
  describeChart(series);
}

function renderSessionLine(): void {
  const session = selected ? sessions.get(selected) : undefined;
  if (!session) return;
  if (sessionLine) sessionLine.applyOptions({ price: session.vwap });
  else {
    sessionLine = candleSeries.createPriceLine({
      price: session.vwap,
      color: '#d2a8ff',
      lineWidth: 1,
      lineStyle: LineStyle.Dashed,
      axisLabelVisible: true,
      title: 'session VWAP',
    });
  }
}

/** The latest candle (or the hovered one) as text: OHLC, volume and VWAP. */
function readout(candle: CandleView | undefined, hovered = false): void {
  $('#readout').textContent = candle
    ? `${hovered ? '' : 'latest '}${localTime(candle.start)}  O ${price(candle.open)}  H ${price(candle.high)}  L ${price(candle.low)}  C ${price(candle.close)}  Vol ${volume(candle.volume)}  VWAP ${price(candle.vwap)}`
    : '–';
}
chart.subscribeCrosshairMove((param) => {
  if (!selected || param.time === undefined) {
    readout(selected ? sortedSeries(selected, interval).at(-1) : undefined);
    return;
  }
  readout(candles.get(seriesKey(selected, interval))?.get((param.time as number) * 1000), true);
});

/** What the chart shows, as data attributes (for tests and tools) and as its accessible name. */
function describeChart(series: readonly CandleView[]): void {
  const element = $('#chart');
  const last = series.at(-1);
  element.dataset.interval = interval;
  element.dataset.company = selected ?? '';
  element.dataset.bars = String(series.length);
  element.dataset.first = String(series[0]?.start ?? '');
  element.dataset.last = String(last?.start ?? '');
  element.setAttribute(
    'aria-label',
    last
      ? `${selected} ${interval} candles, ${series.length} shown, ${zone}; latest at ${localTime(last.start)}: open ${price(last.open)}, high ${price(last.high)}, low ${price(last.low)}, close ${price(last.close)}`
      : `${selected ?? 'No company'} ${interval} candles: none yet`,
  );
  readout(last);
}

function updateChart(list: readonly CandleView[]): void {
  const relevant = list.filter((candle) => candle.company === selected && candle.interval === interval);
  if (relevant.length === 0) return;
  const step = interval === '1s' ? 1000 : 60_000;
  // Older bars revised, or a gap opened: redraw the whole series.
  if (relevant.some((candle) => candle.start < lastBarTime || (lastBarTime > 0 && candle.start > lastBarTime + step))) {
    renderChart();
    return;
  }
  for (const candle of relevant.sort((a, b) => a.start - b.start)) {
    candleSeries.update(toBar(candle));
    vwapSeries.update(toVwap(candle));
    volumeSeries.update(toVolume(candle));
    lastBarTime = candle.start;
  }
  scheduleDescribe();
}

/** The chart's description and readout at most once per frame, however many updates arrive. */
let describePending = false;
function scheduleDescribe(): void {
  if (describePending) return;
  describePending = true;
  requestAnimationFrame(() => {
    describePending = false;
    if (selected) describeChart(sortedSeries(selected, interval));
  });
}

/** History once per series; afterwards the live feed keeps it current (no refetch on every click). */
async function loadHistory(company: string, candleInterval: CandleInterval): Promise<void> {
  const key = seriesKey(company, candleInterval);
  if (historyLoaded.has(key)) return;
  historyLoaded.add(key);
  try {
    const response = await fetch(
      `api/candles?company=${encodeURIComponent(company)}&interval=${candleInterval}&limit=600`,
    );
    if (!response.ok) {
      historyLoaded.delete(key);
      return;
    }
    const body = (await response.json()) as { candles: CandleView[] };
    mergeCandles(body.candles);
    if (company === selected && candleInterval === interval) renderChart();
  } catch (error) {
    // The live feed still fills the chart; the history is asked for again on the next selection.
    historyLoaded.delete(key);
    console.warn('candle history not loaded', error);
  }
}

function selectCompany(company: string): void {
  selected = company;
  for (const button of document.querySelectorAll<HTMLButtonElement>('.tile')) {
    button.setAttribute('aria-pressed', String(button.closest('li')?.dataset.company === company));
  }
  if (sessionLine) {
    candleSeries.removePriceLine(sessionLine);
    sessionLine = undefined;
  }
  rovingFocus();
  renderChart();
  void loadHistory(company, interval);
  void refreshTape(true);
}

for (const button of document.querySelectorAll<HTMLButtonElement>('.intervals button')) {
  button.addEventListener('click', () => {
    interval = button.dataset.interval === '1m' ? '1m' : '1s';
    for (const other of document.querySelectorAll<HTMLButtonElement>('.intervals button')) {
      other.setAttribute('aria-pressed', String(other === button));
    }
    chart.applyOptions({ timeScale: { secondsVisible: interval === '1s' } });
    renderChart();
    if (selected) void loadHistory(selected, interval);
  });
}

// Keyboard zoom and pan on the focused chart: focusable only once these keys work, i.e. from here.
$('#chart').tabIndex = 0;
$('#chart').addEventListener('keydown', (event) => {
  const scale = chart.timeScale();
  const spacing = scale.options().barSpacing;
  const actions: Record<string, () => void> = {
    ArrowLeft: () => scale.scrollToPosition(scale.scrollPosition() - 10, false),
    ArrowRight: () => scale.scrollToPosition(scale.scrollPosition() + 10, false),
    '+': () => scale.applyOptions({ barSpacing: Math.min(spacing * 1.25, 50) }),
    '=': () => scale.applyOptions({ barSpacing: Math.min(spacing * 1.25, 50) }),
    '-': () => scale.applyOptions({ barSpacing: Math.max(spacing / 1.25, 0.5) }),
    Home: () => scale.fitContent(),
    End: () => scale.scrollToRealTime(),
  };
  const action = actions[event.key];
  if (!action) return;
  event.preventDefault();
  action();
});

// ---- Trade tape: the newest trades of the selected company, from /api/trades ----
let tapeAt = 0;
let tapeBusy = false;
async function refreshTape(force = false): Promise<void> {
  if (!selected || tapeBusy || (!force && Date.now() - tapeAt < 1000) || document.hidden) return;
  tapeBusy = true;
  tapeAt = Date.now();
  const company = selected;
  try {
    const response = await fetch(`api/trades?company=${encodeURIComponent(company)}&limit=${TAPE_ROWS}`);
    if (!response.ok) return;
    const body = (await response.json()) as {
      trades: { ts: number; side: 'buy' | 'sell'; quantity: number; price: number }[];
    };
    if (company !== selected) return;
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

// ---- Status: the pill, the trade age, the banner; ticked by this page's own clock ----
const CAUSE_TEXT = {
  replica: (name: string) => `Replica ${name || '?'} stopped sending heartbeats: reconnecting to a living replica.`,
  database: (name: string, readAge?: number) =>
    `Replica ${name} cannot read the database (last read ${formatAge(readAge)}): prices are frozen.`,
  unknown: (_name: string, _readAge?: number, tradeAge?: number) =>
    `No new trades for ${formatAge(tradeAge).replace(' ago', '')}: checking whether the publisher, the database or this replica stopped…`,
  publisher: (_name: string, _readAge?: number, tradeAge?: number) =>
    `No new trades for ${formatAge(tradeAge).replace(' ago', '')}: the database answers, so the publisher (or the consumer) has stopped.`,
};

let shown: Liveness | undefined;
function renderStatus(): void {
  const now = Date.now();
  const state = liveness({
    connected,
    awaitingSnapshot,
    everConnected,
    now,
    connectedAt,
    heartbeatAt,
    heartbeat,
    lastTradeAt,
  });
  if (state.drop) {
    // A replica that stopped its heartbeats is hung: leave it; socket.io reconnects (NGINX
    // skips the hung replica once its read timeout fires).
    heartbeatAt = 0;
    connectedAt = now;
    connected = false;
    socket.io.engine?.close();
  }
  const lastTrade = $('#last-trade');
  lastTrade.textContent = formatAge(state.tradeAgeMs);
  lastTrade.dataset.ms = state.tradeAgeMs === undefined ? '' : String(Math.round(state.tradeAgeMs));
  lastTrade.className = state.state === 'stale' ? 'bad' : state.state === 'delayed' ? 'warn' : '';
  const banner = $('#feed-banner');
  const cause = state.state === 'stale' ? state.cause : undefined;
  if (cause) {
    const readAge = heartbeat?.lastReadAt
      ? now - toPageClock(heartbeat.lastReadAt, heartbeat.sentAt, heartbeatAt)
      : undefined;
    const text = CAUSE_TEXT[cause](replica, readAge, state.tradeAgeMs);
    if (banner.textContent !== text) banner.textContent = text;
    banner.dataset.cause = cause;
    banner.hidden = false;
  } else if (!banner.hidden) {
    banner.hidden = true;
    banner.dataset.cause = '';
  }
  if (shown?.state === state.state && shown.cause === state.cause) return;
  shown = state;
  const pill = $('#connection');
  pill.dataset.state = state.state;
  pill.dataset.cause = state.cause ?? '';
  pill.textContent = {
    connected: 'live',
    delayed: 'trades late',
    stale: 'stale data',
    reconnecting: 'reconnecting…',
    connecting: 'connecting…',
  }[state.state];
  pill.className = `pill ${state.state === 'connected' ? 'pill-ok' : state.state === 'stale' ? 'pill-bad' : 'pill-wait'}`;
  document.body.classList.toggle('stale', state.state !== 'connected' && state.state !== 'delayed');
}

/** End-to-end delay: now minus the trade time of the newest trade in this update. */
function showDelay(list: readonly { lastTradeAt?: number }[]): void {
  const newest = Math.max(0, ...list.map((item) => item.lastTradeAt ?? 0));
  if (newest <= 0) return;
  const delay = Math.max(0, Date.now() - newest);
  const element = $('#delay');
  element.dataset.ms = String(delay);
  element.textContent = delay < 10_000 ? `${delay} ms` : `${(delay / 1000).toFixed(0)} s`;
}

function mergeSessions(list: readonly SessionStats[] | undefined): void {
  for (const session of list ?? []) sessions.set(session.company, session);
  if (list?.some((session) => session.company === selected)) renderSessionLine();
}

// WebSocket first; long-polling stays as the fallback. Reconnection is quick and bounded.
const socket = io({
  transports: ['websocket', 'polling'],
  reconnectionDelay: 300,
  reconnectionDelayMax: 2_000,
  randomizationFactor: 0.3,
  timeout: 5_000,
});
socket.on('connect', () => {
  connected = true;
  everConnected = true;
  awaitingSnapshot = true;
  connectedAt = Date.now();
  heartbeatAt = 0;
  renderStatus();
});
socket.on('disconnect', () => {
  connected = false;
  renderStatus();
});
socket.on('connect_error', () => {
  connected = false;
  renderStatus();
});
socket.on('heartbeat', (message: HeartbeatMessage) => {
  const received = Date.now();
  heartbeat = message;
  heartbeatAt = received;
  if (message.newestTradeAt > 0) noteTrade(message.newestTradeAt, message.sentAt, received);
  renderStatus();
});
socket.on('snapshot', (message: SnapshotMessage) => {
  awaitingSnapshot = false;
  replica = message.replica;
  $('#replica').textContent = message.replica;
  document.body.dataset.replica = message.replica;
  const received = Date.now();
  // A new replica's view replaces the old one's.
  heartbeat = undefined;
  mergeSessions(message.sessions);
  mergeCandles(message.candles);
  mergeStocks(message.stocks, received, undefined);
  renderTiles();
  renderChart();
  showDelay(message.stocks);
  renderStatus();
});
socket.on('update', (message: UpdateMessage) => {
  mergeSessions(message.sessions);
  mergeCandles(message.candles);
  mergeStocks(message.stocks, Date.now(), message.sentAt);
  if (message.stocks.length > 0) scheduleTiles();
  else autoSelect();
  updateChart(message.candles);
  showDelay(message.stocks);
  if (message.stocks.some((stock) => stock.company === selected)) void refreshTape();
  renderStatus();
});
attachSystemView(socket);
// The page's own clock: the trade age and the heartbeat watchdog tick between messages.
setInterval(renderStatus, 250);
