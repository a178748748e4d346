// The System view: the picture the serving replica gathers once a second, drawn as one row per
// stage of the data flow, and an event log. Failover of this page's own connection is added here,
// from what only the page can see: which replica served it before and how long the switch took.
import type { SnapshotMessage } from '@stockmarket/common';
import type { Socket } from 'socket.io-client';
import type {
  BrokerView,
  ConsumerView,
  DatabaseMemberView,
  LiveviewReplicaView,
  PublisherView,
  ReconciliationView,
  SystemEvent,
  SystemMessage,
} from '../shared/system-message.js';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
const pad = (n: number) => String(n).padStart(2, '0');
const clock = (ms: number) => {
  const date = new Date(ms);
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0').slice(0, 1)}`;
};
const num = (value: number, digits = 0) => value.toFixed(digits);

function node(name: string, up: boolean, body: string, extra = ''): string {
  return `<li class="node${up ? '' : ' node-down'}${extra}" data-name="${escapeHtml(name)}" data-up="${up}">
    <span class="node-name">${escapeHtml(name)}</span>
    <span class="node-state">${up ? 'up' : 'down'}</span>${body}</li>`;
}

const figures = (pairs: [string, string][]) =>
  `<dl class="figs">${pairs.map(([term, value]) => `<div><dt>${term}</dt><dd>${value}</dd></div>`).join('')}</dl>`;

function publishers(list: readonly PublisherView[]): string {
  if (list.length === 0) return '<li class="muted">not configured</li>';
  return list
    .map((p) =>
      node(
        p.name,
        p.up,
        figures([
          ['trades/s', num(p.tradesPerSecond)],
          ['unconfirmed', num(p.unconfirmed)],
          ['blocked', p.blocked ? '<strong class="warn">yes</strong>' : 'no'],
        ]),
      ),
    )
    .join('');
}

function broker(view: BrokerView): string {
  if (!view.configured) return '<li class="muted">not configured</li>';
  const state = view.up ? '' : `<p class="warn">unreachable for ${num((Date.now() - view.downSince) / 1000, 1)} s</p>`;
  const queues = view.queues
    .map(
      (queue) =>
        `<tr><th scope="row">${escapeHtml(queue.queue.replace(/^stockmarket\./, ''))}</th><td class="num">${num(queue.messages)}</td><td class="num">${num(queue.consumers)}</td></tr>`,
    )
    .join('');
  return node(
    'rabbitmq',
    view.up,
    `${state}${figures([
      ['publish/s', num(view.publishPerSecond)],
      ['deliver/s', num(view.deliverPerSecond)],
      ['dead letters', num(view.deadLetters)],
    ])}${
      queues
        ? `<table class="queues"><caption class="visually-hidden">Queues: messages waiting and consumers attached</caption><thead><tr><th scope="col">queue</th><th scope="col" class="num">depth</th><th scope="col" class="num">consumers</th></tr></thead><tbody>${queues}</tbody></table>`
        : ''
    }`,
  );
}

function consumers(list: readonly ConsumerView[]): string {
  if (list.length === 0) return '<li class="muted">not configured</li>';
  return list
    .map((c) =>
      node(
        c.name,
        c.up,
        `<p class="leases" data-leases="${c.up ? escapeHtml(c.leases.join(',')) : ''}">${
          c.up
            ? c.leases.length > 0
              ? `writes ${escapeHtml(c.leases.join(' '))}`
              : 'no lease (standby)'
            : 'leases released'
        }</p>${figures([
          ['batches/s', num(c.batchesPerSecond, 1)],
          ['buffered', num(c.buffered)],
          ['last seen', c.seenAt > 0 ? clock(c.seenAt) : '–'],
        ])}`,
      ),
    )
    .join('');
}

function database(list: readonly DatabaseMemberView[]): string {
  if (list.length === 0) return '<li class="muted">no answer yet</li>';
  return list
    .map((m) =>
      node(
        m.name,
        m.state !== 'down',
        `<p class="member-state" data-state="${m.state}">${m.state}${m.standIn ? ' · one node, no replica set' : ''}${
          m.lagSeconds === undefined ? '' : ` · ${num(m.lagSeconds, 1)} s behind`
        }</p>`,
        m.state === 'PRIMARY' ? ' node-primary' : '',
      ),
    )
    .join('');
}

function liveviews(list: readonly LiveviewReplicaView[], serving: string): string {
  if (list.length === 0) return '<li class="muted">not configured</li>';
  return list
    .map((l) =>
      node(
        l.name,
        l.up,
        `${l.name === serving ? '<p class="serving">serves this page</p>' : ''}${figures([
          ['clients', num(l.clients)],
          ['feed lag', `${num(l.feedLagSeconds, 1)} s`],
        ])}`,
        l.name === serving ? ' node-serving' : '',
      ),
    )
    .join('');
}

const minuteClock = (ms: number) => {
  const date = new Date(ms);
  return `${pad(date.getHours())}:${pad(date.getMinutes())}`;
};

/** The reconciliation row: minutes by status since the replica started, the last break, the newest minute per company. */
function reconciliation(view: ReconciliationView | undefined): string {
  if (!view) return '<span class="muted">waiting for the first round…</span>';
  const { counts } = view;
  const breaks =
    view.breaksFound > 0
      ? `<strong class="warn">${view.breaksFound}</strong>${view.breaksNow > 0 ? ` (${view.breaksNow} now)` : ' (recovered)'}`
      : '0';
  const perCompany = Object.entries(view.lastReconciled)
    .map(([company, minute]) => `${escapeHtml(company)} ${minute > 0 ? minuteClock(minute) : '–'}`)
    .join(', ');
  const last = view.lastBreak;
  const lastBreak = last
    ? `<p class="last-break small" data-last-break data-lost="${last.lost}" data-extra="${last.extra}">last break: ${escapeHtml(last.company)} ${minuteClock(last.minute)}: ${escapeHtml(last.text)} (ledger ${last.ledger?.trades ?? 0} trades, qty ${last.ledger?.quantity ?? 0}; booked ${last.booked?.trades ?? 0} trades, qty ${last.booked?.quantity ?? 0})</p>`
    : '<p class="last-break small muted">no break since start</p>';
  return `<div data-matched="${counts.matched}" data-pending="${counts.pending}" data-breaks="${view.breaksFound}" data-breaks-now="${view.breaksNow}" data-partial="${counts.partial}" data-no-ledger="${counts['no-ledger']}">${figures(
    [
      ['matched', num(counts.matched)],
      ['pending', num(counts.pending)],
      ['breaks since start', breaks],
      ['partial', num(counts.partial)],
      ['no ledger', num(counts['no-ledger'])],
      ['grace', `${num(view.graceMs / 1000)} s`],
      ['last reconciled', perCompany || '–'],
    ],
  )}${lastBreak}</div>`;
}

function eventRow(event: SystemEvent): string {
  return `<li data-kind="${event.kind}"${event.durationMs === undefined ? '' : ` data-duration-ms="${event.durationMs}"`}><time datetime="${new Date(event.at).toISOString()}">${clock(event.at)}</time> ${escapeHtml(event.text)}</li>`;
}

/** Draws every `system` message into #system and adds the page's own failovers to the log. */
export function attachSystemView(socket: Socket): void {
  const root = document.querySelector<HTMLElement>('#system');
  if (!root) return;
  const part = (name: string) => root.querySelector(`[data-part="${name}"]`) as HTMLElement;
  const local: SystemEvent[] = [];
  let serving = '';
  let lostAt = 0;
  let picture: SystemMessage | undefined;

  const render = () => {
    if (!picture) return;
    part('publishers').innerHTML = publishers(picture.publishers);
    part('broker').innerHTML = broker(picture.broker);
    part('consumers').innerHTML = consumers(picture.consumers);
    part('database').innerHTML = database(picture.database);
    part('liveviews').innerHTML = liveviews(picture.liveviews, serving);
    const row = reconciliation(picture.reconciliation);
    if (part('reconciliation').innerHTML !== row) part('reconciliation').innerHTML = row;
    part('gathered').textContent = `gathered by ${picture.replica} at ${clock(picture.at)}`;
    // The serving replica's log and this page's own failovers, newest first.
    const events = [...picture.events, ...local].sort((a, b) => b.at - a.at).slice(0, 15);
    const html = events.map(eventRow).join('') || '<li class="muted">nothing has happened yet</li>';
    const log = part('events');
    if (log.innerHTML !== html) log.innerHTML = html;
  };

  socket.on('disconnect', () => {
    lostAt ||= Date.now();
  });
  socket.on('connect_error', () => {
    lostAt ||= Date.now();
  });
  socket.on('snapshot', (message: SnapshotMessage) => {
    if (serving && message.replica !== serving) {
      const durationMs = lostAt > 0 ? Date.now() - lostAt : 0;
      local.push({
        at: Date.now(),
        kind: 'replica-lost',
        text: `${serving} lost -> ${message.replica} in ${(durationMs / 1000).toFixed(1)} s (this page)`,
        durationMs,
      });
    }
    serving = message.replica;
    lostAt = 0;
    render();
  });
  socket.on('system', (message: SystemMessage) => {
    picture = message;
    render();
  });
}
