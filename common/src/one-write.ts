import type { Channel } from 'amqplib';

type Corkable = { cork(): void; uncork(): void };

/** The socket under an amqplib channel (`Channel.connection.stream`), where it is one. */
function socketOf(channel: Channel): Corkable | undefined {
  const stream = (channel as unknown as { connection?: { stream?: Partial<Corkable> } }).connection?.stream;
  return typeof stream?.cork === 'function' && typeof stream.uncork === 'function' ? (stream as Corkable) : undefined;
}

/**
 * Runs `send` (many frames: a turn's publishes) with the connection's socket corked until amqplib
 * has handed the frames to it, so that they leave in one `writev` instead of one write system
 * call per message. Nothing changes in the protocol. amqplib queues frames per channel and its
 * muxer writes them out in a `setImmediate` scheduled from a `readable` event (a `nextTick`): the
 * second `setImmediate` here runs after it. A channel without a `connection.stream` socket (another
 * amqplib, a test's fake) gets plain writes.
 */
export function inOneWrite(channel: Channel | undefined, send: () => void): void {
  const socket = channel && socketOf(channel);
  if (!socket) {
    send();
    return;
  }
  socket.cork();
  try {
    send();
  } finally {
    setImmediate(() => setImmediate(() => socket.uncork()));
  }
}
