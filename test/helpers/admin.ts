/** Test helpers for the admin listener: plain HTTP requests over TCP or a unix socket. */
import { request } from 'node:http';

/** An admin response. */
export interface AdminResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** Sends one request to the admin listener at `where` (`127.0.0.1:PORT` or `unix:/path`). */
export function adminRequest(where: string, method: string, path: string, token?: string): Promise<AdminResponse> {
  const target = where.startsWith('unix:')
    ? { socketPath: where.slice('unix:'.length) }
    : {
        host: where.slice(0, where.lastIndexOf(':')).replace(/^\[|\]$/g, ''),
        port: Number(where.slice(where.lastIndexOf(':') + 1)),
      };
  return new Promise((resolve, reject) => {
    const req = request(
      { ...target, method, path, headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (s: string) => (body += s));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
