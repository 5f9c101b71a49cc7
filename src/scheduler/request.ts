// One POST to the master over node:http, following 307 redirects to the leader.
import http, { type IncomingMessage } from 'node:http';
import { type Endpoint, resolveLocation } from './address.js';

export interface PostResult {
  endpoint: Endpoint;
  response: IncomingMessage;
  request: http.ClientRequest;
}

export const MAX_REDIRECTS = 5;

/**
 * POSTs `body` and resolves with the first non-redirect response (its body unread).
 * `agent: false` gives the request a socket of its own, which the event stream needs.
 */
export function post(
  endpoint: Endpoint,
  body: Buffer,
  headers: Record<string, string>,
  agent: http.Agent | false,
  redirects = MAX_REDIRECTS,
): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: endpoint.host,
      port: endpoint.port,
      path: endpoint.path,
      method: 'POST',
      agent,
      headers: { ...headers, 'Content-Length': String(body.length) },
    });
    req.once('error', reject);
    req.once('response', (res) => {
      const location = res.headers.location;
      if ((res.statusCode === 307 || res.statusCode === 301 || res.statusCode === 302 || res.statusCode === 308) && location) {
        res.resume();
        if (redirects <= 0) {
          reject(new Error(`Too many redirects from ${endpoint.host}:${endpoint.port}`));
          return;
        }
        let next: Endpoint;
        try {
          next = resolveLocation(location, endpoint);
        } catch {
          reject(new Error(`Bad redirect Location '${location}'`));
          return;
        }
        post(next, body, headers, agent, redirects - 1).then(resolve, reject);
        return;
      }
      req.off('error', reject);
      // From here on failures surface on the response (or the caller's own listener); without a
      // listener a late socket error would be an uncaught exception.
      req.on('error', () => undefined);
      resolve({ endpoint, response: res, request: req });
    });
    req.end(body);
  });
}

/** Reads a whole (small) response body. */
export function readBody(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('end', () => resolve(Buffer.concat(chunks)));
    res.once('error', reject);
    res.once('aborted', () => reject(new Error('response aborted')));
  });
}
