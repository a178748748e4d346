// The candle chart of the selected company: candles, VWAP line, volume pane and the session VWAP;
// its readout and accessible description; the interval switch and keyboard zoom and pan.
import type { CandleView } from '@stockmarket/common';
import { CANDLE_INTERVAL_MS } from '@stockmarket/common/storage';
import {
  CandlestickSeries,
  ColorType,
  createChart,
  HistogramSeries,
  type IChartApi,
  type IPriceLine,
  type ISeriesApi,
  LineSeries,
  LineStyle,
  type Time,
} from 'lightweight-charts';
import { loadCandleHistory } from './candle-history.js';
import { gapped, toBar, toVolume, toVwap } from './chart-bars.js';
import { $ } from './dom.js';
import { DOWN_COLOUR, localTime, price, UP_COLOUR, volume, zone } from './format.js';
import { candles, selection, seriesKey, sessions, sortedSeries } from './market-state.js';

/** The latest candle (or the hovered one) as text: OHLC, volume and VWAP. */
function readout(candle: CandleView | undefined, hovered = false): void {
  $('#readout').textContent = candle
    ? `${hovered ? '' : 'latest '}${localTime(candle.start)}  O ${price(candle.open)}  H ${price(candle.high)}  L ${price(candle.low)}  C ${price(candle.close)}  Vol ${volume(candle.volume)}  VWAP ${price(candle.vwap)}`
    : '–';
}

/** What the chart shows, as data attributes (for tests and tools) and as its accessible name. */
function describeChart(series: readonly CandleView[]): void {
  const { company: selected, interval } = selection;
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

function createLibraryChart(): IChartApi {
  return createChart($('#chart'), {
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
      tickMarkFormatter: (time: Time) => localTime((time as number) * 1000, selection.interval === '1s'),
    },
    rightPriceScale: { borderColor: '#2a3541' },
  });
}

export interface ChartView {
  /** Redraws the whole series of the selected company and interval. */
  render(): void;
  /** Applies the live feed's candles; redraws only when older bars changed or a gap opened. */
  update(list: readonly CandleView[]): void;
  /** Moves the session VWAP line to the selected company's current session. */
  renderSessionLine(): void;
  /** Shows the newly selected company and loads its history once. */
  showSelected(): void;
}

export function createChartView(): ChartView {
  const chart = createLibraryChart();
  const candleSeries: ISeriesApi<'Candlestick'> = chart.addSeries(CandlestickSeries, {
    upColor: UP_COLOUR,
    downColor: DOWN_COLOUR,
    borderVisible: false,
    wickUpColor: UP_COLOUR,
    wickDownColor: DOWN_COLOUR,
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
  let lastBarTime = 0;

  function render(): void {
    const { company: selected, interval } = selection;
    if (!selected) return;
    const series = sortedSeries(selected, interval);
    // A young 1 m history says how young it is, and its few bars may grow wide to fill the width.
    const minutes = interval === '1m' && series.length < 60 ? ` · ${series.length} of 60 minutes so far` : '';
    $('#chart-title').textContent = `${selected} · ${interval}`;
    $('#chart-note').textContent = minutes.replace(' · ', '');
    $('#tape-company').textContent = selected;
    chart.applyOptions({ timeScale: { maxBarSpacing: interval === '1m' ? 60 : 14 } });
    candleSeries.setData(gapped(series, interval, toBar));
    vwapSeries.setData(gapped(series, interval, toVwap));
    volumeSeries.setData(gapped(series, interval, toVolume));
    lastBarTime = series.at(-1)?.start ?? 0;
    // A short history fills the width instead of sitting at the right edge.
    if (series.length > 0 && series.length < 120) chart.timeScale().fitContent();
    renderSessionLine();
    describeChart(series);
  }

  function renderSessionLine(): void {
    const session = selection.company ? sessions.get(selection.company) : undefined;
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

  function update(list: readonly CandleView[]): void {
    const { company: selected, interval } = selection;
    const relevant = list.filter((candle) => candle.company === selected && candle.interval === interval);
    if (relevant.length === 0) return;
    const step = CANDLE_INTERVAL_MS[interval];
    // Older bars revised, or a gap opened: redraw the whole series.
    if (
      relevant.some((candle) => candle.start < lastBarTime || (lastBarTime > 0 && candle.start > lastBarTime + step))
    ) {
      render();
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
      if (selection.company) describeChart(sortedSeries(selection.company, selection.interval));
    });
  }

  /** History once per series; redrawn when it arrives for what is still on show. */
  const loadHistory = (company: string) =>
    loadCandleHistory(company, selection.interval, (loaded, loadedInterval) => {
      if (loaded === selection.company && loadedInterval === selection.interval) render();
    });

  chart.subscribeCrosshairMove((param) => {
    const { company: selected, interval } = selection;
    if (!selected || param.time === undefined) {
      readout(selected ? sortedSeries(selected, interval).at(-1) : undefined);
      return;
    }
    readout(candles.get(seriesKey(selected, interval))?.get((param.time as number) * 1000), true);
  });

  for (const button of document.querySelectorAll<HTMLButtonElement>('.intervals button')) {
    button.addEventListener('click', () => {
      selection.interval = button.dataset.interval === '1m' ? '1m' : '1s';
      for (const other of document.querySelectorAll<HTMLButtonElement>('.intervals button')) {
        other.setAttribute('aria-pressed', String(other === button));
      }
      chart.applyOptions({ timeScale: { secondsVisible: selection.interval === '1s' } });
      render();
      if (selection.company) void loadHistory(selection.company);
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

  function showSelected(): void {
    if (sessionLine) {
      candleSeries.removePriceLine(sessionLine);
      sessionLine = undefined;
    }
    render();
    if (selection.company) void loadHistory(selection.company);
  }

  return { render, update, renderSessionLine, showSelected };
}
