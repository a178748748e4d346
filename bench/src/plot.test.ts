import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linePlot } from './plot.js';

test('a line chart renders to SVG headless, with round tick labels and every series named', async () => {
  const svg = await linePlot('Delay', 'clients', 'ms', [
    {
      label: 'p50',
      points: [
        [625, 12.3],
        [1000, 258.2],
        [5000, 344.3],
      ],
    },
    {
      label: 'p99',
      points: [
        [625, 40],
        [5000, 900],
      ],
    },
  ]);
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  for (const text of ['Delay', 'clients', 'ms', 'p50', 'p99']) assert.match(svg, new RegExp(`>${text}<`), text);
  const ticks = [...svg.matchAll(/<text[^>]*>([\d,.]+)<\/text>/g)].map((match) => match[1] ?? '');
  assert.ok(ticks.length >= 4, `tick labels: ${ticks.join(' ')}`);
  for (const tick of ticks) assert.match(tick, /^[\d,]+$/, `a round tick label, got ${tick}`);
});
