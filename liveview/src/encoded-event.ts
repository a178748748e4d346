import { Encoder, PacketType } from 'socket.io-parser';

/**
 * One socket.io event encoded once, to be written to many sockets: the packet as socket.io's
 * default parser encodes it, and the WebSocket frame that carries it (engine.io message type "4"
 * in front), built once as socket.io's own broadcast does (`wsPreEncodedFrame`).
 */
export interface EncodedEvent {
  readonly packet: string;
  readonly frame: readonly Buffer[];
}

const encoder = new Encoder();

/** Encodes `event` with `payload` for the main namespace; JSON payloads only (no binary). */
export function encodeEvent(event: string, payload: unknown): EncodedEvent {
  const packets: unknown[] = encoder.encode({ type: PacketType.EVENT, nsp: '/', data: [event, payload] });
  const [packet] = packets;
  if (packets.length !== 1 || typeof packet !== 'string')
    throw new Error(`event ${event}: binary payloads not supported`);
  return { packet, frame: textFrame(Buffer.from(`4${packet}`)) };
}

/** A final, unmasked WebSocket text frame (RFC 6455 section 5.2), as a server sends it: header, payload. */
export function textFrame(payload: Buffer): Buffer[] {
  const length = payload.length;
  let header: Buffer;
  if (length < 126) {
    header = Buffer.from([0x81, length]);
  } else if (length < 65_536) {
    header = Buffer.alloc(4);
    header[0] = 0x81;
    header[1] = 126;
    header.writeUInt16BE(length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x81;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return [header, payload];
}

/** What is needed of socket.io's `socket.conn` (engine.io's socket). */
interface EngineSocket {
  write(data: string, options?: object): unknown;
}

/**
 * Writes an encoded event to one socket: the same bytes `socket.emit` would send, in the same
 * order with everything else written to it. engine.io sends the ready frame over WebSocket
 * (without per-message compression, which is off here) and encodes the packet itself otherwise.
 */
export function writeEncoded(connection: EngineSocket, event: EncodedEvent): void {
  connection.write(event.packet, { wsPreEncodedFrame: event.frame });
}
