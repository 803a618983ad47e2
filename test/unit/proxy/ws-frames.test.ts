import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closeFrame, FrameBoundary } from '../../../src/proxy/ws-frames.ts';

/** Encodes a frame the way a server (unmasked) or a client (masked) would. */
function frame(payloadLength: number, masked: boolean): Buffer {
  const header: number[] = [0x82];
  const maskBit = masked ? 0x80 : 0;
  if (payloadLength < 126) header.push(maskBit | payloadLength);
  else if (payloadLength < 65_536) header.push(maskBit | 126, payloadLength >> 8, payloadLength & 0xff);
  else {
    const ext = Buffer.alloc(8);
    ext.writeBigUInt64BE(BigInt(payloadLength));
    header.push(maskBit | 127, ...ext);
  }
  if (masked) header.push(1, 2, 3, 4);
  return Buffer.concat([Buffer.from(header), Buffer.alloc(payloadLength, 7)]);
}

describe('FrameBoundary', () => {
  it('is at a boundary exactly between frames, however the stream is chunked', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ length: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 65_530, max: 70_000 })), masked: fc.boolean() }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 1, maxLength: 20 }),
        (frames, cuts) => {
          const encoded = frames.map((f) => frame(f.length, f.masked));
          const stream = Buffer.concat(encoded);
          const ends = new Set<number>();
          let offset = 0;
          for (const part of encoded) ends.add((offset += part.length));
          const tracker = new FrameBoundary();
          let position = 0;
          let cut = 0;
          while (position < stream.length) {
            const size = Math.min(cuts[cut++ % cuts.length] as number, stream.length - position);
            // Feed byte ranges and check the boundary flag after each byte-exact step.
            const chunk = stream.subarray(position, position + size);
            expect(tracker.consume(chunk)).toBe(size);
            position += size;
            expect(tracker.atBoundary).toBe(ends.has(position));
          }
        },
      ),
    );
  });

  it('stops at the end of the frame in progress when asked', () => {
    const tracker = new FrameBoundary();
    const first = frame(10, false);
    const second = frame(5, false);
    tracker.consume(first.subarray(0, 4));
    const rest = Buffer.concat([first.subarray(4), second]);
    expect(tracker.consume(rest, true)).toBe(first.length - 4);
    expect(tracker.atBoundary).toBe(true);
    expect(tracker.consume(second, true)).toBe(0);
  });

  it('builds a 1001 close frame', () => {
    expect([...closeFrame(1001)]).toEqual([0x88, 0x02, 0x03, 0xe9]);
  });
});
