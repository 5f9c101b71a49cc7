// RecordIO framing (SCH-02): `<decimal length>\n<bytes>` repeated, no trailer.

export class RecordIOError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordIOError';
  }
}

/** Largest record a reader accepts unless told otherwise. */
export const DEFAULT_MAX_RECORD_SIZE = 256 * 1024 * 1024;

const LF = 0x0a;

/** One framed record (length, newline and body) in a single buffer. */
export function frame(body: Buffer | string): Buffer {
  const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const header = `${data.length}\n`;
  const out = Buffer.allocUnsafe(header.length + data.length);
  out.write(header, 0, 'latin1');
  data.copy(out, header.length);
  return out;
}

/** Incremental decoder: feed arbitrary chunks, get complete records back. */
export class RecordIOReader {
  private readonly maxRecordSize: number;
  private sizeDigits = '';
  private remaining = -1; // -1: reading the size; >= 0: bytes of body still due
  private parts: Buffer[] = [];
  private failure: RecordIOError | undefined;

  constructor(maxRecordSize: number = DEFAULT_MAX_RECORD_SIZE) {
    this.maxRecordSize = maxRecordSize;
  }

  push(chunk: Buffer): Buffer[] {
    if (this.failure) throw this.failure;
    const records: Buffer[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining < 0) {
        const byte = chunk[i++]!;
        if (byte === LF) {
          this.startBody();
        } else if (byte >= 0x30 && byte <= 0x39) {
          this.sizeDigits += String.fromCharCode(byte);
          // 20 digits hold any uint64; anything longer is garbage.
          if (this.sizeDigits.length > 20) this.fail(`Record size '${this.sizeDigits}...' is too long`);
        } else {
          this.fail(`Invalid record size: unexpected byte 0x${byte.toString(16).padStart(2, '0')}`);
        }
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - i);
      this.parts.push(chunk.subarray(i, i + take));
      i += take;
      this.remaining -= take;
      if (this.remaining === 0) {
        records.push(this.parts.length === 1 ? Buffer.from(this.parts[0]!) : Buffer.concat(this.parts));
        this.parts = [];
        this.remaining = -1;
      }
    }
    return records;
  }

  /** Call at end of stream; throws if a record was cut short. */
  end(): void {
    if (this.failure) throw this.failure;
    if (this.remaining >= 0 || this.sizeDigits.length > 0) {
      this.fail('Stream ended inside a record');
    }
  }

  private startBody(): void {
    if (this.sizeDigits === '') this.fail('Invalid record size: empty');
    const size = Number(this.sizeDigits);
    if (size === 0) this.fail('Invalid record size: 0');
    if (size > this.maxRecordSize) {
      this.fail(`Record size ${this.sizeDigits} exceeds the maximum of ${this.maxRecordSize} bytes`);
    }
    this.sizeDigits = '';
    this.remaining = size;
  }

  private fail(message: string): never {
    this.failure = new RecordIOError(message);
    throw this.failure;
  }
}
