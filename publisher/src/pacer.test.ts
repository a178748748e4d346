import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pacer, RateMeter } from './pacer.js';

/** Drives a pacer the way the generation loop does, on a fake clock stepping `stepMs`. */
function simulate(rate: number, seconds: number, stepMs: number): number {
  const pacer = new Pacer(rate, 0);
  let released = 0;
  for (let now = 0; now <= seconds * 1000; now += stepMs) {
    const count = pacer.due(now);
    pacer.take(count);
    released += count;
  }
  return released;
}

test('releases exactly the target count from 1 to 50,000 trades per second, in slices', () => {
  assert.equal(simulate(1, 10, 50), 10);
  assert.equal(simulate(30, 10, 50), 300);
  assert.equal(simulate(5_000, 2, 1), 10_000);
  assert.equal(simulate(50_000, 2, 1), 100_000);
  // Coarse turns (a busy event loop) still add up: 50 ms turns at 20,000/s are 1,000-trade slices.
  assert.equal(simulate(20_000, 3, 50), 60_000);
});

test('due counts elapsed time, is capped by the slice size, and nothing is due twice', () => {
  const pacer = new Pacer(1_000, 0, 300);
  assert.equal(pacer.due(0), 0);
  assert.equal(pacer.due(100), 100);
  pacer.take(100);
  assert.equal(pacer.due(100), 0, 'taken trades are not due again');
  assert.equal(pacer.due(1_000), 300, 'one slice at most per turn');
  pacer.take(300);
  assert.equal(pacer.due(1_000), 300);
});

test('msUntilNext tells when the next trade is due', () => {
  const pacer = new Pacer(4, 0);
  assert.equal(pacer.msUntilNext(0), 250);
  assert.equal(pacer.due(249), 0);
  assert.equal(pacer.due(250), 1);
  pacer.take(1);
  assert.equal(pacer.msUntilNext(300), 200);
  assert.equal(pacer.msUntilNext(900), 0);
});

test('rebase after a pause: no burst to catch up the outage', () => {
  const pacer = new Pacer(100, 0);
  pacer.take(pacer.due(1_000));
  pacer.rebase(60_000); // one minute disconnected
  assert.equal(pacer.due(60_000), 0);
  assert.equal(pacer.due(60_100), 10);
});

test('when the window holds generation back, at most one second of debt is kept', () => {
  const pacer = new Pacer(1_000, 0, 1_000_000, 1_000);
  assert.equal(pacer.due(10_000), 1_000, 'ten seconds owed, one kept');
  pacer.take(1_000);
  assert.equal(pacer.due(10_000), 0);
  assert.equal(pacer.due(10_500), 500, 'then back to the normal pace');
});

test('rate meter: events per second over the last full seconds of its window', () => {
  const meter = new RateMeter(0, 5);
  for (let second = 0; second < 4; second++) meter.add(1_000, second * 1_000 + 500);
  meter.add(7, 4_100); // the current, partial second does not count
  assert.equal(meter.rate(4_200), 1_000);
  meter.add(3_000, 4_900);
  assert.equal(meter.rate(5_000), (1_000 * 3 + 3_007) / 4, 'the oldest second slid out');
  assert.equal(meter.rate(20_000), 0, 'silence empties the window');
});
