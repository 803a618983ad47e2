/**
 * Just enough of RFC 6455 framing to know where one frame ends and the next begins, so that
 * Gatehouse can inject its own close frame into a relayed stream without cutting a frame in
 * half. Payloads are skipped over, never copied or decoded.
 */
export class FrameBoundary {
  private readonly header = Buffer.alloc(14);
  private headerBytes = 0;
  private payloadLeft = 0;

  /** True between frames: a frame written now would not interleave with a relayed one. */
  get atBoundary(): boolean {
    return this.headerBytes === 0 && this.payloadLeft === 0;
  }

  /**
   * Reads `chunk` and returns how many bytes of it were consumed: all of them, or with
   * `stopAtBoundary` only up to the end of the frame in progress (0 if already between frames).
   */
  consume(chunk: Uint8Array, stopAtBoundary = false): number {
    let i = 0;
    while (i < chunk.length) {
      if (stopAtBoundary && this.atBoundary) return i;
      if (this.payloadLeft > 0) {
        const take = Math.min(this.payloadLeft, chunk.length - i);
        this.payloadLeft -= take;
        i += take;
        continue;
      }
      this.header[this.headerBytes++] = chunk[i++] as number;
      const needed = headerLength(this.header, this.headerBytes);
      if (needed !== null && this.headerBytes === needed) {
        this.payloadLeft = payloadLength(this.header);
        this.headerBytes = 0;
      }
    }
    return i;
  }
}

/** Total header size once the first two bytes are known, else null. */
function headerLength(header: Buffer, have: number): number | null {
  if (have < 2) return null;
  const second = header[1] as number;
  const length7 = second & 0x7f;
  const extended = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
  return 2 + extended + (second & 0x80 ? 4 : 0);
}

function payloadLength(header: Buffer): number {
  const length7 = (header[1] as number) & 0x7f;
  if (length7 === 126) return header.readUInt16BE(2);
  if (length7 === 127) return Number(header.readBigUInt64BE(2));
  return length7;
}

/** An unmasked (server-to-client) close frame with a status code and no reason. */
export function closeFrame(code: number): Buffer {
  return Buffer.from([0x88, 0x02, (code >> 8) & 0xff, code & 0xff]);
}

export const GOING_AWAY = 1001;
