/**
 * Raw HTTP/1.1 on both sides of `--http-upstream`, for framing and smuggling tests: an upstream that parses requests
 * itself (as a simple application server would: no Content-Length and no Transfer-Encoding means no body) and logs
 * every one it sees, so a smuggled second request shows up; and a client that sends literal bytes and counts the
 * responses it got back.
 */
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** One request the upstream parsed (or could not parse: `bad` holds why). */
export interface LoggedRequest {
  readonly method: string;
  readonly url: string;
  /** Header lines as received: [name, value] with the name's case kept. */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  readonly bad?: string;
}

/** Value of the first header named `name` (case-insensitive). */
export function headerOf(r: LoggedRequest, name: string): string | undefined {
  return r.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}

type Parsed =
  { kind: 'need-more' } | { kind: 'bad'; why: string } | { kind: 'ok'; request: LoggedRequest; used: number };

/** Decodes a chunked body starting at `at`; returns the body and where the message ends, or undefined for more. */
function chunked(buf: Buffer, at: number): { body: Buffer; end: number } | { bad: string } | undefined {
  const parts: Buffer[] = [];
  let pos = at;
  for (;;) {
    const eol = buf.indexOf('\r\n', pos);
    if (eol < 0) return undefined;
    const sizeText = buf.subarray(pos, eol).toString('latin1').split(';')[0] ?? '';
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) return { bad: `chunk size ${JSON.stringify(sizeText)}` };
    const size = parseInt(sizeText, 16);
    if (size === 0) {
      if (buf.length < eol + 4) return undefined;
      if (buf.subarray(eol, eol + 4).toString('latin1') === '\r\n\r\n')
        return { body: Buffer.concat(parts), end: eol + 4 };
      const trailerEnd = buf.indexOf('\r\n\r\n', eol + 2);
      return trailerEnd < 0 ? undefined : { body: Buffer.concat(parts), end: trailerEnd + 4 };
    }
    if (buf.length < eol + 2 + size + 2) return undefined;
    if (buf.subarray(eol + 2 + size, eol + 4 + size).toString('latin1') !== '\r\n')
      return { bad: 'no CRLF after chunk data' };
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
}

/** Parses one request at the start of `buf`. */
function parseRequest(buf: Buffer): Parsed {
  const headEnd = buf.indexOf('\r\n\r\n');
  // Unframed body bytes rarely look like a request: say so at once instead of waiting for a head that never ends.
  const lineEnd = buf.indexOf('\r\n');
  if (
    buf.length > 0 &&
    (!/^[A-Z]/.test(buf.toString('latin1', 0, 1)) ||
      (lineEnd >= 0 && !/^[A-Z]+ \S+ HTTP\/1\.[01]$/.test(buf.toString('latin1', 0, lineEnd))))
  ) {
    return {
      kind: 'bad',
      why: `request line ${JSON.stringify(buf.toString('latin1', 0, Math.min(80, lineEnd < 0 ? buf.length : lineEnd)))}`,
    };
  }
  if (headEnd < 0) return buf.length > 65_536 ? { kind: 'bad', why: 'head too long' } : { kind: 'need-more' };
  const [line = '', ...lines] = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(line);
  if (!m) return { kind: 'bad', why: `request line ${JSON.stringify(line.slice(0, 80))}` };
  const headers = lines.map((l): [string, string] => {
    const colon = l.indexOf(':');
    return [l.slice(0, colon), l.slice(colon + 1).trim()];
  });
  const base = { method: m[1] ?? '', url: m[2] ?? '', headers };
  const te = headers.find(([n]) => n.toLowerCase() === 'transfer-encoding');
  const cl = headers.find(([n]) => n.toLowerCase() === 'content-length');
  if (te) {
    const body = chunked(buf, headEnd + 4);
    if (body === undefined) return { kind: 'need-more' };
    if ('bad' in body) return { kind: 'bad', why: body.bad };
    return { kind: 'ok', request: { ...base, body: body.body }, used: body.end };
  }
  const length = cl ? Number(cl[1]) : 0;
  if (!Number.isSafeInteger(length) || length < 0) return { kind: 'bad', why: 'content-length' };
  if (buf.length < headEnd + 4 + length) return { kind: 'need-more' };
  return {
    kind: 'ok',
    request: { ...base, body: buf.subarray(headEnd + 4, headEnd + 4 + length) },
    used: headEnd + 4 + length,
  };
}

/** A keep-alive upstream that logs every request it parses and answers each with 200 (body `ok`). */
export interface LoggingUpstream {
  readonly port: number;
  /** Every request parsed, in order of parsing, across all connections (including unparseable ones, with `bad`). */
  readonly seen: LoggedRequest[];
  close(): Promise<void>;
}

export async function startLoggingUpstream(): Promise<LoggingUpstream> {
  const seen: LoggedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      buf = Buffer.concat([buf, data]);
      for (;;) {
        const p = parseRequest(buf);
        if (p.kind === 'need-more') return;
        if (p.kind === 'bad') {
          seen.push({ method: '', url: '', headers: [], body: buf, bad: p.why });
          socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
          buf = Buffer.alloc(0);
          return;
        }
        seen.push(p.request);
        buf = buf.subarray(p.used);
        socket.write(
          p.request.method === 'HEAD'
            ? 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n'
            : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
        );
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** What a raw client got back: the status of every complete response, and whether the server closed. */
export interface RawAnswer {
  readonly statuses: number[];
  readonly reasons: (string | undefined)[];
  readonly text: string;
  readonly closedByServer: boolean;
}

/**
 * Parses the responses in `text` in order (Content-Length or chunked bodies; none after HEAD, 1xx, 204, 304).
 * `methods` are the methods of the requests sent, in order. Stops at the first incomplete or unparseable response.
 */
export function parseResponses(
  text: string,
  methods: readonly string[],
): { statuses: number[]; reasons: (string | undefined)[] } {
  const statuses: number[] = [];
  const reasons: (string | undefined)[] = [];
  let pos = 0;
  while (pos < text.length) {
    const headEnd = text.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) break;
    const [line = '', ...lines] = text.slice(pos, headEnd).split('\r\n');
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(line);
    if (!m) break;
    const status = Number(m[1]);
    const header = (name: string): string | undefined =>
      lines
        .find((l) => l.toLowerCase().startsWith(`${name}:`))
        ?.slice(name.length + 1)
        .trim();
    let end = headEnd + 4;
    const noBody = methods[statuses.length] === 'HEAD' || status < 200 || status === 204 || status === 304;
    if (!noBody && header('transfer-encoding') !== undefined) {
      const fin = text.indexOf('\r\n0\r\n\r\n', end - 2);
      if (fin < 0) break;
      end = fin + 7;
    } else if (!noBody) {
      end += Number(header('content-length') ?? '0');
      if (end > text.length) break;
    }
    if (status >= 200) {
      statuses.push(status);
      reasons.push(header('x-wsproxy-reason'));
    }
    pos = end;
  }
  return { statuses, reasons };
}

/**
 * Writes `bytes` on a fresh connection, then collects until the server closes, or `expected` responses arrived (then
 * waits `settleMs` more for a close), or at least one response arrived and nothing more for `idleMs`. Never throws on a
 * reset.
 */
export async function rawExchange(
  port: number,
  bytes: Buffer | string,
  methods: readonly string[],
  options: { expected?: number; timeoutMs?: number; settleMs?: number; idleMs?: number } = {},
): Promise<RawAnswer> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  let closedByServer = false;
  const done = new Promise<void>((resolve) => {
    let settle: NodeJS.Timeout | undefined;
    let idle: NodeJS.Timeout | undefined;
    const finish = (): void => {
      clearTimeout(timer);
      clearTimeout(settle);
      clearTimeout(idle);
      resolve();
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 5_000);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      const got = parseResponses(Buffer.concat(chunks).toString('latin1'), methods).statuses.length;
      if (options.expected !== undefined && got >= options.expected && settle === undefined)
        settle = setTimeout(finish, options.settleMs ?? 0);
      if (options.idleMs !== undefined && got > 0) {
        clearTimeout(idle);
        idle = setTimeout(finish, options.idleMs);
      }
    });
    socket.on('close', () => {
      closedByServer = true;
      finish();
    });
  });
  await once(socket, 'connect').catch(() => {});
  socket.write(bytes);
  await done;
  socket.destroy();
  const text = Buffer.concat(chunks).toString('latin1');
  return { ...parseResponses(text, methods), text, closedByServer };
}
