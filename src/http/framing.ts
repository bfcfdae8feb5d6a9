/**
 * Request body framing (RFC 9112 §6): what wsproxy accepts, and how a body is framed towards `httpUpstream`.
 *
 * Node's parser (llhttp, strict mode: `insecureHTTPParser` is off) already refuses Transfer-Encoding with
 * Content-Length, a TE whose last coding is not `chunked` in one line, repeated or non-numeric Content-Length, bad
 * chunk sizes, obs-fold and bare LF. It lets through a final `chunked` after other codings (`gzip, chunked`, or
 * `gzip` and `chunked` on two lines), which it then decodes as chunked while the `gzip` is silently ignored, and TE in
 * an HTTP/1.0 request. wsproxy, like nginx, accepts exactly one coding: `chunked`. Anything else that carries a
 * framing header is ambiguous: 400 and the connection is closed, before anything is proxied.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import { reject } from './reject.js';

/** What the parser saw of one request: its version and raw header lines. */
export interface FramingFacts {
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  /** Name, value, name, value… as received (Node's `rawHeaders`). */
  readonly rawHeaders: readonly string[];
}

/** Values of every header line named `name` (case-insensitive). Pure. */
function linesNamed(rawHeaders: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === name) out.push((rawHeaders[i + 1] ?? '').trim());
  }
  return out;
}

/** Why this request's framing is ambiguous (a stable short code for the log), or undefined when it is not. Pure. */
export function framingProblem(req: FramingFacts): string | undefined {
  const te = linesNamed(req.rawHeaders, 'transfer-encoding');
  const cl = linesNamed(req.rawHeaders, 'content-length');
  if (te.length > 0 && cl.length > 0) return 'te-with-cl';
  // RFC 9112 §6.1: TE in an HTTP/1.0 message means faulty framing.
  if (te.length > 0 && (req.httpVersionMajor !== 1 || req.httpVersionMinor === 0)) return 'te-in-http10';
  if (te.length > 1) return 'te-repeated';
  if (te.length === 1 && te[0]?.toLowerCase() !== 'chunked') return 'te-not-chunked';
  if (cl.length > 1) return 'cl-repeated';
  // Plain digits that a JavaScript number holds exactly (llhttp takes up to 2^64-1; the length is re-sent as a number).
  if (cl.length === 1 && !(/^[0-9]+$/.test(cl[0] ?? '') && Number(cl[0]) <= Number.MAX_SAFE_INTEGER))
    return 'cl-invalid';
  return undefined;
}

/**
 * The framing header of the body forwarded upstream: `chunked` stays chunked, a length is sent in canonical form, and
 * a request with neither has no body. Set after every other header, so no `Connection` token can remove it. Pure.
 */
export function upstreamFraming(incoming: IncomingHttpHeaders): Record<string, string> {
  if (incoming['transfer-encoding'] !== undefined) return { 'transfer-encoding': 'chunked' };
  const length = incoming['content-length'];
  if (length !== undefined) return { 'content-length': String(Number(length)) };
  return {};
}

/** Replaces whatever framing headers `headers` holds with `framing`. */
export function applyFraming(headers: IncomingHttpHeaders, framing: Readonly<Record<string, string>>): void {
  delete headers['transfer-encoding'];
  delete headers['content-length'];
  Object.assign(headers, framing);
}

// Connections that sent an ambiguous request: requests pipelined behind it were framed by a guess, so none is served.
const refused = new WeakSet<object>();

/** Whether this connection was refused for its framing (its 400 is on the way; nothing more is written there). */
export function framingRefused(socket: object): boolean {
  return refused.has(socket);
}

/**
 * Answers 400 BAD_FRAMING (one log line, connection closed) when the request's framing is ambiguous, and drops every
 * later request parsed on that connection. Returns true when the request must not be served.
 */
export function refuseBadFraming(req: IncomingMessage, res: ServerResponse, log: Logger): boolean {
  if (refused.has(req.socket)) {
    res.destroy();
    return true;
  }
  const problem = framingProblem(req);
  if (problem === undefined) return false;
  refused.add(req.socket);
  reject(res, 'BAD_FRAMING', { log, fields: { method: req.method ?? '', framing: problem } });
  return true;
}
