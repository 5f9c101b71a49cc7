// A bodiless answer, shared by the master's HTTP handlers. (Its natural home is next to sendText and
// sendJson in src/common/http/server.ts; the agent's handlers write the same two lines.)
import type { ServerResponse } from 'node:http';

/** A bodiless answer (200 unless told). */
export function sendEmpty(res: ServerResponse, status = 200, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Length': 0 });
  res.end();
}
