import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Decoder, type Packet } from 'socket.io-parser';
import { encodeEvent, textFrame } from './encoded-event.js';

test('an encoded event decodes, with socket.io’s own parser, to the event and its payload', () => {
  const payload = { replica: 'r-1', stocks: [{ company: 'AAPL', avgPrice: 1.5 }], candles: [], note: 'é ✓' };
  const encoded = encodeEvent('snapshot', payload);
  const decoder = new Decoder();
  let decoded: Packet | undefined;
  decoder.on('decoded', (packet: Packet) => {
    decoded = packet;
  });
  decoder.add(encoded.packet);
  assert.deepEqual(decoded?.data, ['snapshot', payload]);
  assert.equal(decoded?.nsp, '/');
  // The frame carries engine.io's message type "4" and then the packet, byte for byte.
  assert.equal(
    Buffer.concat(encoded.frame)
      .subarray(-Buffer.byteLength(encoded.packet) - 1)
      .toString(),
    `4${encoded.packet}`,
  );
});

test('text frames use the 7-bit, 16-bit and 64-bit length forms at their boundaries', () => {
  const lengthOf = (frame: Buffer[]) => {
    const [header] = frame;
    assert.ok(header);
    assert.equal(header[0], 0x81, 'final text frame');
    const short = (header[1] ?? 0) & 0x7f;
    assert.equal((header[1] ?? 0) & 0x80, 0, 'not masked');
    if (short === 126) return { size: header.readUInt16BE(2), headerBytes: header.length };
    if (short === 127) return { size: Number(header.readBigUInt64BE(2)), headerBytes: header.length };
    return { size: short, headerBytes: header.length };
  };
  for (const [size, headerBytes] of [
    [0, 2],
    [125, 2],
    [126, 4],
    [65_535, 4],
    [65_536, 10],
  ] as const) {
    const frame = textFrame(Buffer.alloc(size, 0x61));
    assert.deepEqual(lengthOf(frame), { size, headerBytes }, `payload of ${size} bytes`);
    assert.equal(frame[1]?.length, size);
  }
});
