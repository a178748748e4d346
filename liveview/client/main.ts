// The page script: wires the socket.io feed to the market state and the views (tiles, chart, trade
// tape, connection status, System view). Each view lives in its own module.
import type { HeartbeatMessage, SnapshotMessage, UpdateMessage } from '@stockmarket/common';
import { io } from 'socket.io-client';
import { createChartView } from './chart-view.js';
import { createConnectionStatus, showDelay } from './connection-status.js';
import { $ } from './dom.js';
import { zone } from './format.js';
import { mergeCandles, mergeSessions, mergeStocks, selection } from './market-state.js';
import { attachSystemView } from './system-view.js';
import { refreshTape } from './trade-tape-view.js';
import { createWatchlistTiles } from './watchlist-tiles.js';

$('#zone').textContent = zone;
const chart = createChartView();
const tiles = createWatchlistTiles(selectCompany);

function selectCompany(company: string): void {
  selection.company = company;
  tiles.showSelected();
  chart.showSelected();
  void refreshTape(true);
}

// WebSocket first; long-polling stays as the fallback. Reconnection is quick and bounded.
const socket = io({
  transports: ['websocket', 'polling'],
  reconnectionDelay: 300,
  reconnectionDelayMax: 2_000,
  randomizationFactor: 0.3,
  timeout: 5_000,
});
const status = createConnectionStatus(() => socket.io.engine?.close());

socket.on('connect', () => {
  status.connected();
  status.render();
});
socket.on('disconnect', () => {
  status.disconnected();
  status.render();
});
socket.on('connect_error', () => {
  status.disconnected();
  status.render();
});
socket.on('heartbeat', (message: HeartbeatMessage) => {
  status.heartbeat(message);
  status.render();
});
socket.on('snapshot', (message: SnapshotMessage) => {
  status.snapshot(message.replica);
  const received = Date.now();
  if (mergeSessions(message.sessions)) chart.renderSessionLine();
  mergeCandles(message.candles);
  status.noteTrade(mergeStocks(message.stocks), received, received);
  tiles.render();
  chart.render();
  showDelay(message.stocks);
  status.render();
});
socket.on('update', (message: UpdateMessage) => {
  // An update carries the replica's heartbeat; it sends no separate one while updates flow.
  if (message.heartbeat) status.heartbeat(message.heartbeat);
  if (mergeSessions(message.sessions)) chart.renderSessionLine();
  mergeCandles(message.candles);
  const received = Date.now();
  status.noteTrade(mergeStocks(message.stocks), message.sentAt ?? received, received);
  if (message.stocks.length > 0) tiles.schedule();
  else tiles.autoSelect();
  chart.update(message.candles);
  showDelay(message.stocks);
  if (message.stocks.some((stock) => stock.company === selection.company)) void refreshTape();
  status.render();
});
attachSystemView(socket);
// The page's own clock: the trade age and the heartbeat watchdog tick between messages.
setInterval(status.render, 250);
