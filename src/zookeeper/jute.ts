// Jute, ZooKeeper's record serialization: big-endian ints/longs, length-prefixed
// strings and buffers (-1 length = null), vectors as count + items.

export class JuteWriter {
  private buf: Buffer;
  private pos = 0;

  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  int(v: number): this {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  long(v: bigint | number): this {
    this.ensure(8);
    this.buf.writeBigInt64BE(BigInt(v), this.pos);
    this.pos += 8;
    return this;
  }

  bool(v: boolean): this {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
    return this;
  }

  buffer(v: Uint8Array | undefined): this {
    if (v === undefined) return this.int(-1);
    this.int(v.length);
    this.ensure(v.length);
    this.buf.set(v, this.pos);
    this.pos += v.length;
    return this;
  }

  string(v: string | undefined): this {
    return this.buffer(v === undefined ? undefined : Buffer.from(v, 'utf8'));
  }

  stringVector(v: readonly string[]): this {
    this.int(v.length);
    for (const s of v) this.string(s);
    return this;
  }

  /** The bytes written so far. */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /** The bytes written so far, preceded by their 4-byte length (one frame on the wire). */
  frame(): Buffer {
    const out = Buffer.allocUnsafe(this.pos + 4);
    out.writeInt32BE(this.pos, 0);
    this.buf.copy(out, 4, 0, this.pos);
    return out;
  }
}

export class JuteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JuteError';
  }
}

export class JuteReader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new JuteError(`truncated record (need ${n} bytes at ${this.pos} of ${this.buf.length})`);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  int(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  long(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** A long known to fit a JS number (zxids, times). */
  longNumber(): number {
    return Number(this.long());
  }

  bool(): boolean {
    this.need(1);
    return this.buf[this.pos++] !== 0;
  }

  buffer(): Buffer | undefined {
    const len = this.int();
    if (len < 0) return undefined;
    this.need(len);
    const v = Buffer.from(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return v;
  }

  string(): string {
    const b = this.buffer();
    return b === undefined ? '' : b.toString('utf8');
  }

  stringVector(): string[] {
    const n = this.int();
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.string());
    return out;
  }
}
