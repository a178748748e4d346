import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** One line of a plot: (x, y) points. */
export interface PlotSeries {
  readonly label: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

/** The Vega-Lite specification of a line chart (x against one or more y series). */
export function lineChartSpec(
  title: string,
  xLabel: string,
  yLabel: string,
  series: readonly PlotSeries[],
  logX = false,
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 560,
    height: 300,
    background: 'white',
    data: { values: series.flatMap((line) => line.points.map(([x, y]) => ({ series: line.label, x, y }))) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: xLabel, scale: logX ? { type: 'log' } : { zero: false } },
      y: { field: 'y', type: 'quantitative', title: yLabel },
      color: { field: 'series', type: 'nominal', title: null, sort: series.map((line) => line.label) },
    },
  };
}

/** Renders a line chart to SVG headless (Vega's own renderer, no browser or canvas). */
export async function linePlot(...args: Parameters<typeof lineChartSpec>): Promise<string> {
  const view = new View(parse(compile(lineChartSpec(...args)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
