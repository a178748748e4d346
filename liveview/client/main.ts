import type { CandleInterval, CandleView, SnapshotMessage, StockView, UpdateMessage } from '@stockmarket/common';
import {
  type CandlestickData,
  CandlestickSeries,
  ColorType,
  createChart,
  type IChartApi,
  type ISeriesApi,
  type LineData,
  LineSeries,
  type UTCTimestamp,
} from 'lightweight-charts';
import { io } from 'socket.io-client';

const SPARK_POINTS = 60;
const $ = <T extends HTMLElement>(selector: string) => document.querySelector(selector) as T;

const stocks = new Map<string, StockView>();
const sessionStart = new Map<string, number>();
const sparks = new Map<string, number[]>();
const candles = new Map<string, Map<number, CandleView>>();
let selected: string | undefined;
let interval: CandleInterval = '1s';
let connected = false;
let everConnected = false;
let fresh = true;

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
  // fitContent() below never stretches a candle wider than maxBarSpacing.
  timeScale: { timeVisible: true, secondsVisible: true, maxBarSpacing: 14 },
  rightPriceScale: { borderColor: '#2a3541' },
});
const candleSeries: ISeriesApi<'Candlestick'> = chart.addSeries(CandlestickSeries, {
  upColor: '#3fb950',
  downColor: '#ff7b72',
  borderVisible: false,
  wickUpColor: '#3fb950',
  wickDownColor: '#ff7b72',
});
const vwapSeries: ISeriesApi<'Line'> = chart.addSeries(LineSeries, {
  color: '#f2cc60',
  lineWidth: 2,
  priceLineVisible: false,
});

const price = (value: number | undefined) => (value === undefined ? '–' : value.toFixed(2));
const priceOf = (stock: StockView) => stock.lastPrice ?? stock.avgPrice;
const seriesKey = (company: string, candleInterval: CandleInterval) => `${company}:${candleInterval}`;

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

function mergeStocks(list: readonly StockView[]): void {
  for (const stock of list) {
    stocks.set(stock.company, stock);
    const value = priceOf(stock);
    if (!sessionStart.has(stock.company)) sessionStart.set(stock.company, value);
    const spark = sparks.get(stock.company) ?? [];
    spark.push(value);
    if (spark.length > SPARK_POINTS) spark.shift();
    sparks.set(stock.company, spark);
  }
}

/**
 * Until the user picks a company, chart the first one that has candles: a document from another
 * consumer may carry only avgPrice, and asking the API for its candles would only get a 404.
 */
function autoSelect(): void {
  if (selected) return;
  const charted = [...stocks.keys()].sort().find((company) => candles.has(seriesKey(company, '1s')));
  if (charted) selectCompany(charted);
}

function renderTiles(): void {
  const list = $('#tiles');
  const companies = [...stocks.keys()].sort();
  autoSelect();
  for (const company of companies) {
    const stock = stocks.get(company) as StockView;
    let item = list.querySelector<HTMLLIElement>(`li[data-company="${company}"]`);
    if (!item) {
      item = document.createElement('li');
      item.dataset.company = company;
      item.innerHTML = `<button type="button" class="tile" aria-pressed="false">
        <span class="tile-head"><span class="ticker"></span><span class="change" data-field="change"></span></span>
        <span class="price" data-field="price"></span>
        <span class="row"><span>avg <span data-field="avgPrice"></span></span><span>vwap <span data-field="vwap"></span></span></span>
        <svg class="spark" viewBox="0 0 100 30" preserveAspectRatio="none" aria-hidden="true"><polyline points=""></polyline></svg>
      </button>`;
      (item.querySelector('.ticker') as HTMLElement).textContent = company;
      item.querySelector('button')?.addEventListener('click', () => selectCompany(company));
      list.append(item);
    }
    const button = item.querySelector('button') as HTMLButtonElement;
    button.setAttribute('aria-pressed', String(company === selected));
    const current = priceOf(stock);
    const start = sessionStart.get(company) ?? current;
    const change = current - start;
    const percent = start === 0 ? 0 : (change / start) * 100;
    const direction = change > 0 ? 'up' : change < 0 ? 'down' : '';
    const field = (name: string) => item?.querySelector(`[data-field="${name}"]`) as HTMLElement;
    field('price').textContent = price(current);
    field('avgPrice').textContent = price(stock.avgPrice);
    field('vwap').textContent = price(stock.vwap);
    const changeField = field('change');
    changeField.textContent = `${change > 0 ? '▲' : change < 0 ? '▼' : '■'} ${percent >= 0 ? '+' : ''}${percent.toFixed(2)}%`;
    changeField.className = `change ${direction}`;
    button.setAttribute(
      'aria-label',
      `${company}: price ${price(current)}, average ${price(stock.avgPrice)}, ${percent.toFixed(2)} percent since session start`,
    );
    const spark = sparks.get(company) ?? [];
    const min = Math.min(...spark);
    const max = Math.max(...spark);
    const points = spark
      .map((value, index) => {
        const x = spark.length === 1 ? 100 : (index / (spark.length - 1)) * 100;
        const y = max === min ? 15 : 28 - ((value - min) / (max - min)) * 26;
        return `${x.toFixed(1)},${y.toFixed(1)}`;
      })
      .join(' ');
    item.querySelector('polyline')?.setAttribute('points', points);
  }
}

function toBar(candle: CandleView): CandlestickData {
  return {
    time: (candle.start / 1000) as UTCTimestamp,
    open: candle.open,
    high: candle.high,
    low: candle.low,
    close: candle.close,
  };
}
function toVwap(candle: CandleView): LineData {
  return { time: (candle.start / 1000) as UTCTimestamp, value: candle.vwap };
}

let lastBarTime = 0;
function renderChart(): void {
  if (!selected) return;
  $('#chart-title').textContent = `${selected} · ${interval}`;
  const series = sortedSeries(selected, interval);
  candleSeries.setData(series.map(toBar));
  vwapSeries.setData(series.map(toVwap));
  lastBarTime = series.at(-1)?.start ?? 0;
  // A short history fills the width instead of sitting at the right edge; a long one keeps the
  // library's default bar spacing and scrolls.
  if (series.length > 0 && series.length < 120) chart.timeScale().fitContent();
  describeChart(series);
}

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
      ? `${selected} ${interval} candles, ${series.length} shown; latest open ${price(last.open)}, high ${price(last.high)}, low ${price(last.low)}, close ${price(last.close)}`
      : `${selected ?? 'No company'} ${interval} candles: none yet`,
  );
}

const sortedSeries = (company: string, candleInterval: CandleInterval) =>
  [...(candles.get(seriesKey(company, candleInterval))?.values() ?? [])].sort((a, b) => a.start - b.start);

function updateChart(list: readonly CandleView[]): void {
  const relevant = list.filter((candle) => candle.company === selected && candle.interval === interval);
  if (relevant.length === 0) return;
  if (relevant.some((candle) => candle.start < lastBarTime)) {
    renderChart();
    return;
  }
  for (const candle of relevant.sort((a, b) => a.start - b.start)) {
    candleSeries.update(toBar(candle));
    vwapSeries.update(toVwap(candle));
    lastBarTime = candle.start;
  }
  describeChart(sortedSeries(selected as string, interval));
}

async function loadHistory(company: string, candleInterval: CandleInterval): Promise<void> {
  try {
    const response = await fetch(
      `api/candles?company=${encodeURIComponent(company)}&interval=${candleInterval}&limit=600`,
    );
    if (!response.ok) return;
    const body = (await response.json()) as { candles: CandleView[] };
    mergeCandles(body.candles);
    if (company === selected && candleInterval === interval) renderChart();
  } catch {
    // The live feed still fills the chart; history comes with the next selection.
  }
}

function selectCompany(company: string): void {
  selected = company;
  for (const button of document.querySelectorAll<HTMLButtonElement>('.tile')) {
    button.setAttribute('aria-pressed', String(button.closest('li')?.dataset.company === company));
  }
  renderChart();
  void loadHistory(company, interval);
}

for (const button of document.querySelectorAll<HTMLButtonElement>('.intervals button')) {
  button.addEventListener('click', () => {
    interval = button.dataset.interval === '1m' ? '1m' : '1s';
    for (const other of document.querySelectorAll<HTMLButtonElement>('.intervals button')) {
      other.setAttribute('aria-pressed', String(other === button));
    }
    renderChart();
    if (selected) void loadHistory(selected, interval);
  });
}

function renderStatus(): void {
  const pill = $('#connection');
  const state = !connected ? (everConnected ? 'reconnecting' : 'connecting') : fresh ? 'connected' : 'stale';
  if (pill.dataset.state === state) return;
  pill.dataset.state = state;
  pill.textContent = {
    connected: 'connected',
    stale: 'stale data',
    reconnecting: 'reconnecting…',
    connecting: 'connecting…',
  }[state];
  pill.className = `pill ${state === 'connected' ? 'pill-ok' : state === 'stale' ? 'pill-bad' : 'pill-wait'}`;
  document.body.classList.toggle('stale', state !== 'connected');
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

// WebSocket first; long-polling stays as the fallback (NGINX routes it sticky by address).
// Reconnection is quick and bounded: the page finds a living replica within a few seconds.
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
socket.on('snapshot', (message: SnapshotMessage) => {
  $('#replica').textContent = message.replica;
  document.body.dataset.replica = message.replica;
  fresh = message.fresh ?? true;
  mergeStocks(message.stocks);
  mergeCandles(message.candles);
  renderTiles();
  renderChart();
  showDelay(message.stocks);
  renderStatus();
});
socket.on('update', (message: UpdateMessage) => {
  fresh = message.fresh;
  mergeStocks(message.stocks);
  mergeCandles(message.candles);
  if (message.stocks.length > 0) renderTiles();
  else autoSelect();
  updateChart(message.candles);
  showDelay(message.stocks);
  renderStatus();
});
