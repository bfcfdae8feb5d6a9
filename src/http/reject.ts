/**
 * The one way a request is refused before a WebSocket exists: status line, short text body, the reason code in
 * `X-Wsproxy-Reason`, `Connection: close`, the socket destroyed once the answer is flushed, one log line and one
 * `refused` event (src/events.ts).
 */
import type { ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { REASONS, type HttpReasonCode } from '../errors.js';
import { publishRefusedOn } from '../events.js';
import type { LogFields, Logger } from '../log.js';
import { SECURITY_HEADERS } from './headers.js';

/** Extra parts of a refusal. `message` replaces the catalogue text in the body (it must hold no secret). */
export interface RejectOptions {
  readonly message?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly log: Logger;
  readonly fields?: LogFields;
  /** Log at debug instead (malformed input from scanners should not flood the log). */
  readonly quiet?: boolean;
  /** False: publish no refusal event (the caller already reported the failure as something else). */
  readonly counted?: boolean;
}

// A client that never reads its answer must not hold the socket open.
const FLUSH_DEADLINE_MS = 5_000;

function logRefusal(code: HttpReasonCode, status: number, options: RejectOptions): void {
  const fields = { reason: code, status, ...options.fields };
  const msg = `refused: ${options.message ?? REASONS[code].text}`;
  // (fields may carry a `detail` for operators that the client is not shown)
  if (options.quiet) options.log.debug(msg, fields);
  else if (status >= 500) options.log.warn(msg, fields);
  else options.log.info(msg, fields);
}

/**
 * Answers `code` on a raw socket (an upgrade request or a request the parser rejected) or on a `ServerResponse`,
 * then closes the connection.
 */
export function reject(to: Duplex | ServerResponse, code: HttpReasonCode, options: RejectOptions): void {
  const status = REASONS[code].status;
  const body = `${status} ${STATUS_CODES[status] ?? ''}\n${options.message ?? REASONS[code].text}\n`;
  const headers: Record<string, string> = {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    'Cache-Control': 'no-store',
    Connection: 'close',
    'X-Wsproxy-Reason': code,
    ...SECURITY_HEADERS,
    ...options.headers,
  };
  logRefusal(code, status, options);
  if (options.counted !== false) publishRefusedOn('writeHead' in to ? to.req.socket : to, code, status);

  if ('writeHead' in to) {
    if (to.headersSent) {
      to.destroy();
      return;
    }
    to.shouldKeepAlive = false;
    to.writeHead(status, headers);
    to.end(to.req.method === 'HEAD' ? undefined : body);
    return;
  }

  const socket = to;
  if (!socket.writable || socket.destroyed) {
    socket.destroy();
    return;
  }
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ].join('\r\n');
  const timer = setTimeout(() => socket.destroy(), FLUSH_DEADLINE_MS);
  timer.unref();
  socket.end(`${head}\r\n\r\n${body}`, () => {
    clearTimeout(timer);
    socket.destroy();
  });
}
