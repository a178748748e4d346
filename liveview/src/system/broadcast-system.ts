import type { ClientToServerEvents } from '@stockmarket/common';
import type { Server as SocketServer } from 'socket.io';
import type { LiveviewServerEvents, SystemMessage } from '../../shared/system-message.js';

/**
 * Sends each picture to every client in one broadcast (socket.io encodes it once for all), and
 * the newest one to a client at once when it connects.
 */
export function broadcastSystem(
  io: SocketServer<ClientToServerEvents, LiveviewServerEvents>,
): (picture: SystemMessage) => void {
  let latest: SystemMessage | undefined;
  io.on('connection', (socket) => {
    if (latest) socket.emit('system', latest);
  });
  return (picture) => {
    latest = picture;
    if (io.of('/').sockets.size > 0) io.emit('system', picture);
  };
}
