// A SUBSCRIBE response: chunked 200 whose body is a RecordIO stream of events.
import type { ServerResponse } from 'node:http';
import { encodeJson, encodeProto, type Msg } from './codec.js';
import { contentType, type Encoding } from './media.js';
import { frame } from './recordio.js';

/** The framed record for one event in the given encoding. */
export function encodeEvent(type: string, msg: Msg, encoding: Encoding): Buffer {
  return frame(encoding === 'json' ? encodeJson(type, msg) : encodeProto(type, msg));
}

export class EventStream {
  readonly encoding: Encoding;
  readonly messageType: string;
  private readonly res: ServerResponse;
  private isClosed = false;
  private closedByUs = false;
  private readonly closeCallbacks: Array<() => void> = [];

  constructor(
    res: ServerResponse,
    encoding: Encoding,
    messageType: string,
    extraHeaders: Record<string, string> = {},
  ) {
    this.res = res;
    this.encoding = encoding;
    this.messageType = messageType;
    res.writeHead(200, {
      'Content-Type': contentType(encoding),
      'Cache-Control': 'no-cache',
      ...extraHeaders,
    });
    res.flushHeaders();
    // Events are small and latency matters; a stream may stay idle for long.
    res.socket?.setNoDelay(true);
    res.socket?.setTimeout(0);
    res.on('error', () => this.handleGone());
    res.on('close', () => this.handleGone());
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Bytes written but not yet flushed to the socket (a slow reader shows up here). */
  get bufferedBytes(): number {
    return this.res.writableLength;
  }

  /** Writes one event as one record in a single write; false if the stream is closed. */
  send(event: Msg): boolean {
    if (this.isClosed) return false;
    if (this.res.destroyed || this.res.writableEnded) {
      this.handleGone();
      return false;
    }
    this.res.write(encodeEvent(this.messageType, event, this.encoding));
    return true;
  }

  /** Ends the response from our side; onClose callbacks are not run for this. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closedByUs = true;
    if (!this.res.writableEnded) this.res.end();
  }

  /** Runs `cb` once when the client goes away (connection closed or broken). */
  onClose(cb: () => void): void {
    if (this.isClosed && !this.closedByUs) {
      queueMicrotask(cb);
      return;
    }
    this.closeCallbacks.push(cb);
  }

  private handleGone(): void {
    if (this.closedByUs) return;
    this.isClosed = true;
    const callbacks = this.closeCallbacks.splice(0);
    for (const cb of callbacks) cb();
  }
}
