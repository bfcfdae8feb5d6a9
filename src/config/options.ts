/**
 * Every command-line option, defined once: its flag and aliases, value kind, default, help text and group, the
 * `WSPROXY_*` variable and config-file key (both derived from the name), its reload class and the reload report it
 * belongs to, whether it is a secret, whether it belongs to `wsproxy cert`, and its docs/options.md notes. The yargs
 * parser, `CliArgs`, `DEFAULTS`, the env/file sources, the reload classes and docs/options.md are derived from it.
 * A leaf (docs/architecture.md §3): the long option names are spelled out here and nowhere else in src/.
 */

/** The help sections, in the order `--help` and docs/options.md show them (first use decides). */
export type OptionGroup =
  | 'TLS'
  | 'HTTP'
  | 'WebSocket'
  | 'Limits'
  | 'Tokens'
  | 'Auth'
  | 'General'
  | 'Listening'
  | 'Operations'
  | 'Certificates'
  | 'Target TLS'
  | 'Process';

/** One option. Numbers are `string` values too: `resolveConfig` says exactly what is wrong with `10s`. */
export interface OptionSpec {
  /** `boolean` a switch (`--no-X` turns off one on by default); `string` one value, the last given wins; `list`
   * repeatable, one value per flag (`greedy`: every word up to the next flag). */
  readonly kind: 'boolean' | 'string' | 'list';
  readonly greedy?: boolean;
  /** One letter (`-v`) or a second long name (`--client-ca`). */
  readonly alias?: string;
  /** What the parser fills in when no source gives the option. */
  readonly default?: string | boolean;
  /** Applied by `resolveConfig` when unset (it must tell "given" from "default"); shown in `--help`. */
  readonly fallback?: string;
  readonly fallbackNote?: string;
  readonly group: OptionGroup;
  /** The `--help` line. */
  readonly help: string;
  /** docs/options.md: the value's placeholder, the default when neither `default` nor `fallback` says it, the
   * longer explanation and how it differs from websockify. */
  readonly arg?: string;
  readonly shown?: string;
  readonly detail?: string;
  readonly websockify?: string;
  /** A reload applies it `live`, keeps it until a `restart`, or it is not part of a serving configuration (`none`). */
  readonly reload: 'live' | 'restart' | 'none';
  /** The reload report name(s) it feeds, when not its own name. */
  readonly reports?: string | readonly string[];
  /** Never echoed in errors, logs or reports. */
  readonly secret?: boolean;
  /** `cert`: only for `wsproxy cert …`; `any`: help, version and the config file itself (no `CliArgs` member). */
  readonly command?: 'cert' | 'any';
  /** `false`: no `WSPROXY_*` variable and no config-file key. */
  readonly env?: false;
  /** Always present in `CliArgs` (`resolveConfig` reads it without a fallback). */
  readonly required?: boolean;
  /** Accepted for websockify compatibility and ignored, with a notice (no `CliArgs` member). */
  readonly ignored?: boolean;
  /** An empty value is refused by the parser although there is a default. */
  readonly needsValue?: boolean;
  /** The values it takes; with `bare`, a flag not followed by one of them means `bare` (websockify's switch). */
  readonly values?: readonly string[];
  readonly bare?: string;
}

/** The table, in `--help` order. */
export const OPTION_TABLE = {
  cert: {
    kind: 'string',
    fallback: 'self.pem',
    group: 'TLS',
    help: 'TLS certificate chain in PEM, may also hold the key',
    arg: 'FILE',
    detail: 'TLS certificate chain in PEM; may also hold the key',
    websockify: 'same',
    reload: 'live',
    required: true,
  },
  key: {
    kind: 'string',
    group: 'TLS',
    help: 'TLS private key in PEM, if not inside --cert',
    arg: 'FILE',
    detail: 'private key, if not inside `--cert`',
    websockify: 'same',
    reload: 'live',
    required: true,
  },
  'key-password': {
    kind: 'string',
    group: 'TLS',
    help: 'passphrase of an encrypted --key (never logged)',
    arg: 'PASS',
    detail: 'passphrase of an encrypted key; never logged',
    websockify: 'same',
    reload: 'live',
    secret: true,
    required: true,
  },
  'ssl-only': {
    kind: 'boolean',
    default: false,
    group: 'TLS',
    help: 'refuse plain ws:// and http:// clients',
    detail: 'refuse plain `ws://` and `http://` clients (closed without an answer)',
    websockify: 'same',
    reload: 'live',
    required: true,
  },
  'state-dir': {
    kind: 'string',
    group: 'TLS',
    help: 'where the generated certificate is kept (no --cert and no self.pem) [default: $XDG_STATE_HOME/wsproxy]',
    arg: 'DIR',
    shown: '`$XDG_STATE_HOME/wsproxy`',
    detail: 'where the generated certificate is kept (no `--cert` and no `self.pem`)',
    websockify: 'new',
    reload: 'live',
    required: true,
  },
  web: {
    kind: 'string',
    group: 'HTTP',
    help: 'serve files from DIR on the same port (GET/HEAD; no listings, no dotfiles)',
    arg: 'DIR',
    detail:
      'serve files from DIR (GET/HEAD), `index.html` for directories; no Content-Security-Policy unless `--web-csp`',
    websockify:
      'no listings, no dotfiles, no redirects, symlinks cannot leave DIR; secrets in DIR are never served (see [With noVNC](web.md#with-novnc))',
    reload: 'live',
    required: true,
  },
  'web-csp': {
    kind: 'string',
    group: 'HTTP',
    help: 'Content-Security-Policy header for --web files, e.g. "default-src \'self\'" (default: none; built-in pages keep their strict one)',
    arg: 'POLICY',
    detail:
      '`Content-Security-Policy` header for `--web` files (`"default-src \'self\'"`); the built-in pages always have their own strict one',
    websockify: 'new',
    reload: 'live',
  },
  'file-only': {
    kind: 'boolean',
    default: false,
    group: 'HTTP',
    help: 'accepted for websockify compatibility; listings are always off',
    detail: 'accepted for compatibility',
    websockify: 'listings are always off',
    reload: 'none',
    required: true,
  },
  'allow-origin': {
    kind: 'list',
    group: 'WebSocket',
    help: "extra allowed page Origins (scheme://host[:port]) or '*', several space-separated in one value; same-host pages are always allowed",
    arg: 'ORIGINS',
    detail:
      "extra page origins allowed to open a WebSocket (`scheme://host[:port]`, `null`, or `*`), several space-separated in one value (`'https://a.example https://b.example'`)",
    websockify: 'websockify checks Origin only with the `ExpectOrigin` plugin',
    reload: 'live',
    required: true,
  },
  'max-message-size': {
    kind: 'string',
    default: '16MiB',
    group: 'WebSocket',
    help: 'largest client message; bigger ones close the session with 1009 (above 0: there must be a bound)',
    arg: 'SIZE',
    detail:
      'largest client message; a larger one closes the session with 1009, checked on the frame header; must be above 0 (there must be a bound)',
    websockify: 'websockify has no limit',
    reload: 'live',
    required: true,
  },
  'max-buffered-total': {
    kind: 'string',
    fallback: '64MiB',
    fallbackNote: 'at least --max-message-size',
    group: 'WebSocket',
    help: 'bytes of unfinished client messages (fragments without their last frame) all sessions may hold together; the session that would pass it is closed with 1009 (0 = no limit)',
    arg: 'SIZE',
    shown: '`64MiB`, at least `--max-message-size`',
    detail:
      "bytes of unfinished client messages (a frame still arriving, fragments without their FIN frame) all sessions may hold together; the session whose data would pass it is closed with 1009 (`MESSAGE_BUFFER_FULL`), the others go on. 64 MiB holds four largest messages at the default `--max-message-size`, while noVNC's own messages are a few bytes; a given value below `--max-message-size` is refused; 0 = no limit",
    websockify: 'websockify has no bound: each session may hold one message of any size',
    reload: 'live',
  },
  'high-water-mark': {
    kind: 'string',
    default: '64KiB',
    group: 'WebSocket',
    help: 'bytes buffered towards one side before the other side is paused',
    arg: 'SIZE',
    detail:
      'bytes buffered towards one side before the other side is paused; above 64 KiB it is also the largest read from a plain target (fewer, larger messages: less CPU per byte for bulk transfers, up to about three marks held by a paused session)',
    websockify: 'websockify has no backpressure',
    reload: 'live',
    required: true,
  },
  'connect-timeout': {
    kind: 'string',
    default: '10',
    group: 'Limits',
    help: 'seconds to connect to the target (all resolved addresses) before answering 504 (above 0)',
    arg: 'SEC',
    detail:
      'time to connect the target (all resolved addresses) before answering 504; above 0 (a silent target would hold the handshake forever)',
    websockify: 'websockify uses the OS default and only the first address',
    reload: 'live',
    required: true,
  },
  'handshake-timeout': {
    kind: 'string',
    default: '10',
    group: 'Limits',
    help: 'seconds for first byte + TLS handshake + request headers (above 0)',
    arg: 'SEC',
    detail:
      'one deadline for first byte + TLS handshake + request headers; also the headers of each later request on a kept-alive connection (a whole request, body included, has 300 s or this, whichever is longer); above 0 (an idle client would hold its slot forever)',
    websockify: 'websockify: 3 s for the first byte only',
    reload: 'live',
    required: true,
  },
  'max-connections': {
    kind: 'string',
    default: '10000',
    group: 'Limits',
    help: 'open client connections at most; extra ones are closed (0 = no limit)',
    arg: 'N',
    detail: 'open client connections; extra ones are closed and counted (`0` = no limit)',
    websockify: 'new',
    reload: 'live',
    required: true,
  },
  'max-connections-per-ip': {
    kind: 'string',
    default: '256',
    group: 'Limits',
    help: 'open connections per client address at most, IPv6 counted per /64, the forwarded client with --trust-forwarded (0 = no limit)',
    arg: 'N',
    detail:
      'open connections per client address: IPv6 per /64, IPv4-mapped IPv6 as IPv4, behind `--trust-forwarded` the forwarded client (`0` = no limit)',
    websockify: 'new',
    reload: 'live',
    required: true,
  },
  'shutdown-timeout': {
    kind: 'string',
    default: '10',
    group: 'Limits',
    help: 'seconds sessions sent 1001 at shutdown (SIGINT at once, SIGTERM after --drain-timeout) may take to close before they are cut (0 = cut at once)',
    arg: 'SEC',
    detail:
      'once sessions are sent 1001 (SIGINT at once, SIGTERM after `--drain-timeout`), how long their close may take before they are cut (`0` = cut at once)',
    websockify: 'new',
    reload: 'live',
    required: true,
  },
  'token-plugin': {
    kind: 'string',
    group: 'Tokens',
    help: 'choose the target per connection by token: TokenFile, ReadOnlyTokenFile, TokenFileName, UnixDomainSocketDirectory, BaseTokenAPI, JSONTokenApi, JWTTokenApi, or ./your-resolver.js',
    arg: 'NAME',
    detail:
      "choose the target per connection by token: `TokenFile`, `ReadOnlyTokenFile`, `TokenFileName`, `UnixDomainSocketDirectory`, `BaseTokenAPI`, `JSONTokenApi`, `JWTTokenApi`, `TokenRedis` (websockify's names, also as `websockify.token_plugins.X`)",
    websockify: 'contained, time-limited, cached; see [tokens](tokens.md)',
    reload: 'live',
    required: true,
  },
  'token-source': {
    kind: 'string',
    group: 'Tokens',
    help: "the token plugin's source: a file or directory of 'token: host:port' lines, or a directory of files named by token",
    arg: 'ARG',
    detail:
      "the plugin's source: a file or directory of `token: host:port` lines; for `TokenFileName` a directory of files named by token",
    websockify: 'same format',
    reload: 'live',
    required: true,
  },
  'target-config': {
    kind: 'string',
    group: 'Tokens',
    help: 'deprecated: same as --token-plugin TokenFile --token-source FILE',
    arg: 'FILE',
    detail: 'deprecated: `--token-plugin TokenFile --token-source FILE`',
    websockify: 'same',
    reload: 'live',
    reports: ['token-plugin', 'token-source'],
    required: true,
  },
  'token-jwt-audience': {
    kind: 'string',
    group: 'Tokens',
    help: "JWTTokenApi: the token's aud claim must include this",
    arg: 'AUD',
    detail: 'JWTTokenApi: the `aud` claim must include AUD',
    websockify: 'new',
    reload: 'live',
    required: true,
  },
  'token-jwt-issuer': {
    kind: 'string',
    group: 'Tokens',
    help: "JWTTokenApi: the token's iss claim must be this",
    arg: 'ISS',
    detail: 'JWTTokenApi: the `iss` claim must be ISS',
    websockify: 'new',
    reload: 'live',
    required: true,
  },
  'token-jwt-allow-no-exp': {
    kind: 'boolean',
    default: false,
    group: 'Tokens',
    help: 'JWTTokenApi: accept tokens without an exp claim (they never expire; refused by default)',
    detail:
      'JWTTokenApi: accept tokens without an `exp` claim (they never expire); without it such tokens are refused like invalid ones',
    websockify: 'websockify accepts them',
    reload: 'live',
  },
  'token-hash-key-file': {
    kind: 'string',
    group: 'Tokens',
    help: 'FILE holds the secret that keys token_hash (share it across a fleet) [default: made in the state dir]',
    arg: 'FILE',
    shown: 'made in the state dir',
    detail:
      'FILE holds the secret that keys `token_hash` (at least 16 characters, e.g. `openssl rand -hex 32`); give every node of a fleet the same file so hashes match; without it `<state dir>/token-hash.key` is made (0600) on first use and kept',
    websockify: 'new',
    reload: 'restart',
  },
  'host-token': {
    kind: 'boolean',
    default: false,
    group: 'Tokens',
    help: 'take the token from the Host header (without port) instead of ?token=',
    detail: 'the token is the `Host` header without its port',
    websockify: 'works with `[v6]:port` hosts',
    reload: 'live',
    required: true,
  },
  'token-from-path': {
    kind: 'boolean',
    default: false,
    group: 'Tokens',
    help: 'take the token from the last path segment instead of ?token=',
    detail: 'the token is the last path segment (`/vnc/TOKEN`)',
    websockify: 'new',
    reload: 'live',
    required: true,
  },
  'auth-plugin': {
    kind: 'string',
    group: 'Auth',
    help: 'authorise each WebSocket: BasicHTTPAuth, ExpectOrigin, ClientCertCNAuth, or ./your-auth.js',
    arg: 'NAME',
    detail:
      'authorise each WebSocket: `BasicHTTPAuth` (`--auth-source user:password`), `ExpectOrigin` (`--auth-source "https://a.example https://b.example"`), `ClientCertCNAuth` (`--auth-source "alice bob"`, the verified client certificate\'s CN), or the path of your own ES module (`./auth.mjs`)',
    websockify: 'constant-time compare; a malformed header gets 403 instead of a silent close',
    reload: 'live',
    required: true,
  },
  'auth-source': {
    kind: 'string',
    group: 'Auth',
    help: "the auth plugin's argument: user:password (BasicHTTPAuth) or allowed origins (ExpectOrigin)",
    arg: 'ARG',
    detail: "the auth plugin's argument (never logged)",
    websockify: 'same',
    reload: 'live',
    secret: true,
    required: true,
  },
  'web-auth': {
    kind: 'boolean',
    default: false,
    group: 'Auth',
    help: 'require the auth plugin for pages and files too',
    detail: 'require the auth plugin for pages and files too',
    websockify: 'also protects the built-in page (websockify needs `--web`)',
    reload: 'live',
    required: true,
  },
  record: {
    kind: 'string',
    group: 'General',
    help: "record each session to FILE.<n> in noVNC's playback format",
    arg: 'FILE',
    detail:
      "record each session to `FILE.<n>` in noVNC's playback format, and its facts (client, target, token hash, identity, client certificate) to `FILE.<n>.json`. If the disk falls more than 16 MiB behind a session (beyond room for one `--max-message-size` message), that session's recording is dropped: one warning (`RECORDING_DROPPED`), the file ends with `'EOF'];` where it got to, and the session goes on unrecorded",
    websockify: 'an existing file is never overwritten; websockify keeps no facts and blocks on a slow disk',
    reload: 'live',
    required: true,
  },
  'run-once': {
    kind: 'boolean',
    default: false,
    group: 'General',
    help: 'handle one WebSocket session, then exit',
    detail:
      'handle one WebSocket session, then exit: once it opens the port is closed and upgrades on connections already open get 503 `RUN_ONCE_BUSY`; a handshake refused before its session opened does not use it up',
    websockify: 'same (websockify handles one connection)',
    reload: 'restart',
    required: true,
  },
  timeout: {
    kind: 'string',
    default: '0',
    group: 'General',
    help: 'stop accepting N seconds after start and exit once sessions end (0 = never)',
    arg: 'SEC',
    detail: 'stop accepting SEC seconds after start; exit when the sessions have ended',
    websockify: 'same',
    reload: 'restart',
    required: true,
  },
  'idle-timeout': {
    kind: 'string',
    default: '0',
    group: 'General',
    help: 'exit after N seconds without any session (0 = never)',
    arg: 'SEC',
    detail: 'exit after SEC seconds without any session',
    websockify: 'same',
    reload: 'restart',
    required: true,
  },
  heartbeat: {
    kind: 'string',
    default: '0',
    group: 'WebSocket',
    help: 'ping clients every N seconds and cut those that do not answer by the next ping (0 = off)',
    arg: 'SEC',
    detail: 'ping each client every SEC seconds; a client that has not answered by the next ping is cut',
    websockify: 'websockify ignores the pongs',
    reload: 'live',
    required: true,
  },
  'unix-listen': {
    kind: 'string',
    group: 'Listening',
    help: 'listen on this unix socket instead of TCP (then no source_port is given)',
    arg: 'FILE',
    detail:
      'listen on a unix socket instead of TCP (no source_port then); a stale socket file is replaced, any other file is refused',
    websockify: 'websockify unlinks whatever is there',
    reload: 'restart',
    reports: 'listen',
    required: true,
  },
  'unix-listen-mode': {
    kind: 'string',
    default: '600',
    group: 'Listening',
    help: 'octal mode of the --unix-listen socket',
    arg: 'MODE',
    detail: 'octal mode of that socket',
    websockify: 'same',
    reload: 'restart',
    reports: 'listen',
    required: true,
  },
  inetd: {
    kind: 'boolean',
    default: false,
    group: 'Listening',
    help: 'the listening socket is file descriptor 0 (inetd/systemd Accept=no style)',
    detail: 'the listening socket is file descriptor 0 (no source_port then)',
    websockify: 'IPv6 sockets work too',
    reload: 'restart',
    reports: 'listen',
    required: true,
  },
  'prefer-ipv6': {
    kind: 'boolean',
    alias: '6',
    default: false,
    group: 'Listening',
    help: 'when the listen host name resolves to both, listen on its IPv6 address',
    detail: 'when the listen host name resolves to both families, use its IPv6 address',
    websockify: 'a bare port is already dual-stack',
    reload: 'restart',
    reports: 'listen',
    required: true,
  },
  'unix-target': {
    kind: 'string',
    group: 'Tokens',
    help: 'relay to this unix socket (same as a target unix:/path)',
    arg: 'FILE',
    detail: 'relay to a unix socket (same as the target `unix:/path`)',
    websockify: 'same',
    reload: 'live',
    reports: 'target',
    required: true,
  },
  'text-frames': {
    kind: 'string',
    default: 'reject',
    group: 'WebSocket',
    help: 'text frames from clients: reject (close 1003, as websockify) or binary (relay their bytes)',
    arg: 'reject|binary',
    detail: 'text frames close with 1003, or (`binary`) their UTF-8 bytes are relayed',
    websockify: 'websockify can only reject (#365)',
    reload: 'live',
    required: true,
  },
  traffic: {
    kind: 'boolean',
    default: false,
    group: 'General',
    help: 'print a character per frame on stdout ({ target read, < client write, } client read, > target write)',
    detail: 'a character per frame on stdout: `{` target read, `<` client write, `}` client read, `>` target write',
    websockify: 'same legend',
    reload: 'live',
    required: true,
  },
  libserver: {
    kind: 'boolean',
    default: false,
    group: 'General',
    help: 'accepted for websockify compatibility and ignored (wsproxy has one server)',
    detail: 'accepted and ignored, with a notice',
    websockify: 'websockify drops tokens and auth with it',
    reload: 'none',
    ignored: true,
  },
  workers: {
    kind: 'string',
    default: '1',
    group: 'Listening',
    help: "serve the port with N processes (node:cluster), or 'auto' for one per core",
    arg: 'N|auto',
    detail:
      'serve the port with N processes (`node:cluster`); `auto` = one per core; a worker that dies is replaced; SIGTERM/SIGHUP reach every worker (a reload is logged once, by the primary)',
    websockify:
      'websockify forks a process per connection; limits (`--max-connections*`) count per worker; not with `--inetd`, `--unix-listen`, `--run-once`, `--timeout`, `--idle-timeout`, `--admin-listen` (metrics are per process; scale with more instances instead)',
    reload: 'restart',
  },
  'http-upstream': {
    kind: 'string',
    group: 'HTTP',
    help: 'reverse-proxy ordinary HTTP requests that wsproxy does not answer itself to this http(s) URL (one port for an app and its tunnel)',
    arg: 'URL',
    detail:
      'reverse-proxy ordinary HTTP requests wsproxy does not answer itself to an `http://` or `https://` URL (optional path prefix); see [One port for an app and its tunnel](web.md#one-port-for-an-app-and-its-tunnel)',
    websockify: 'new',
    reload: 'restart',
  },
  'upstream-underscore-headers': {
    kind: 'boolean',
    default: false,
    group: 'HTTP',
    help: "pass request headers whose names contain '_' on to --http-upstream (dropped by default, as nginx does); forged forwarding and client-certificate headers are dropped either way",
    detail:
      'pass request headers whose names contain `_` on to `--http-upstream` (dropped by default, as nginx does); forged forwarding and client-certificate headers are dropped either way',
    websockify: 'new',
    reload: 'live',
  },
  demo: {
    kind: 'boolean',
    default: false,
    group: 'General',
    help: 'relay to a built-in echo service and make a self-signed certificate if none exists',
    detail: 'relay to a built-in echo service; make a self-signed certificate if none exists',
    websockify: 'new',
    reload: 'live',
    required: true,
  },
  verbose: {
    kind: 'boolean',
    alias: 'v',
    default: false,
    group: 'General',
    help: 'debug logging (handshake failures with their reason codes)',
    detail: 'debug logging: every handshake failure with its reason code',
    websockify: 'same flag',
    reload: 'live',
    reports: 'log-level',
    required: true,
  },
  'log-file': {
    kind: 'string',
    group: 'General',
    help: 'also append log lines to FILE (created 0600)',
    arg: 'FILE',
    detail: 'also append log lines to FILE (created 0600)',
    websockify: 'same',
    reload: 'restart',
    required: true,
  },
  'log-format': {
    kind: 'string',
    default: 'auto',
    group: 'General',
    help: 'log lines as text or json; auto: text on a terminal, JSON otherwise',
    arg: 'auto|text|json',
    detail: 'log line format; `auto` is text when stderr is a terminal, JSON otherwise (journald, Docker, Kubernetes)',
    websockify: 'new',
    reload: 'live',
    required: true,
  },
  'log-level': {
    kind: 'string',
    group: 'General',
    help: 'debug, info, warn or error [default: info, or debug with -v]',
    arg: 'LEVEL',
    shown: '`info` (`debug` with `-v`)',
    detail: '`debug`, `info`, `warn` or `error`',
    websockify: 'new',
    reload: 'live',
  },
  'admin-listen': {
    kind: 'string',
    group: 'Operations',
    help: 'serve /metrics, /healthz, /readyz and /sessions on this address: host:port, a port (loopback) or unix:/path',
    arg: 'ADDR',
    detail:
      'admin listener apart from the public port: `host:port`, `[v6]:port`, a port alone (loopback) or `unix:/path` (mode 0600); serves `/metrics`, `/healthz`, `/readyz`, `/sessions` — see [operations](operations.md#admin-listener)',
    websockify: 'new',
    reload: 'restart',
  },
  'admin-token-file': {
    kind: 'string',
    group: 'Operations',
    help: 'FILE holds a bearer token the admin routes require (not /healthz, /readyz); required when --admin-listen is not loopback',
    arg: 'FILE',
    detail:
      'FILE holds a bearer token that every admin route but `/healthz` and `/readyz` requires (never a command-line value, never logged); required when `--admin-listen` is not loopback or a unix socket',
    websockify: 'new',
    reload: 'live',
  },
  'drain-timeout': {
    kind: 'string',
    default: '30',
    group: 'Operations',
    help: 'seconds SIGTERM lets live sessions go on (no new connections) before closing them with 1001 (0 = close at once)',
    arg: 'SEC',
    detail:
      'SIGTERM: stop accepting, `/readyz` answers 503, live sessions may go on for SEC seconds, then they are closed with 1001 (then `--shutdown-timeout` applies; `0` = close at once)',
    websockify: 'websockify closes at once',
    reload: 'live',
  },
  config: {
    kind: 'string',
    group: 'General',
    help: 'read options from a YAML or JSON file (keys are flag names; flags > WSPROXY_* environment > file)',
    arg: 'FILE',
    detail:
      'read options from a YAML or JSON file whose keys are the flag names (`listen:` and `target:` for the positionals); also `WSPROXY_CONFIG`; read again on SIGHUP',
    websockify: 'new; precedence flags > `WSPROXY_*` > file > defaults',
    reload: 'none',
    command: 'any',
  },
  'proxy-protocol-in': {
    kind: 'boolean',
    default: false,
    group: 'Operations',
    help: 'every connection starts with a PROXY protocol v1/v2 header from a --trusted-proxy balancer',
    detail:
      'every connection starts with a PROXY protocol v1 or v2 header from a `--trusted-proxy` balancer; others are closed',
    websockify: 'websockify has none (#334)',
    reload: 'live',
  },
  'trusted-proxy': {
    kind: 'list',
    group: 'Operations',
    help: "CIDRs of balancers/reverse proxies allowed to state the client address (several: '10.0.0.0/8 fd00::/8')",
    arg: 'CIDRS',
    detail:
      "balancers and reverse proxies allowed to state the client address, space-separated (`'10.0.0.0/8 fd00::/8'`)",
    websockify: 'new',
    reload: 'live',
  },
  'trust-forwarded': {
    kind: 'boolean',
    default: false,
    group: 'Operations',
    help: 'take the client address from Forwarded / X-Forwarded-For sent by a --trusted-proxy',
    detail:
      'take the client address from `Forwarded` / `X-Forwarded-For` sent by a trusted proxy (rightmost untrusted)',
    websockify: 'websockify ignores them (#334)',
    reload: 'live',
  },
  'proxy-protocol-out': {
    kind: 'string',
    group: 'Operations',
    help: 'send the real client address to the target first: v1 or v2',
    arg: 'v1|v2',
    detail:
      'send the real client address to the target before any relayed byte (`JSONTokenApi` may override per token)',
    websockify: 'websockify cannot (#630)',
    reload: 'live',
  },
  'max-sessions-per-token': {
    kind: 'string',
    default: '0',
    group: 'Operations',
    help: 'live sessions per token at most, in this process (across the fleet with TokenRedis; 0 = no limit)',
    arg: 'N',
    detail: 'live sessions per token, in this process (across the fleet with TokenRedis); more get 429',
    websockify: 'new (OSSN-0008)',
    reload: 'live',
  },
  'auth-failure-limit': {
    kind: 'string',
    default: '10/min',
    group: 'Operations',
    help: 'unknown tokens and failed auth per client address, e.g. 10/min; beyond it token and auth checks get 429 (0 = no limit)',
    arg: 'RATE',
    detail:
      'unknown tokens and failed logins per client address (IPv6 per /64); beyond it token and auth checks get 429 `AUTH_RATE_LIMITED` + `Retry-After` until the bucket refills (`0` = no limit)',
    websockify: 'new (brute-force guard)',
    reload: 'live',
    needsValue: true,
  },
  'rate-limit': {
    kind: 'string',
    group: 'Operations',
    help: 'WebSocket handshakes per client address, e.g. 10/s or 600/min (429 beyond; 0 = no limit, the default)',
    arg: 'RATE',
    detail:
      'WebSocket handshakes per client address (`10/s`, `600/min`; N at once, then the rate); more get 429 + `Retry-After` (`0` = no limit)',
    websockify: 'new',
    reload: 'live',
  },
  'allow-target': {
    kind: 'list',
    group: 'Operations',
    help: "only these target ranges, checked after DNS: CIDR[:ports], several space-separated, e.g. '10.0.0.0/8:5900-5999 192.0.2.7:22'",
    arg: 'RANGES',
    detail:
      "only these target ranges, checked after DNS: `CIDR[:ports]`, space-separated (`'10.0.0.0/8:5900-5999 192.0.2.7:22'`); link-local/metadata refused unless listed",
    websockify: 'websockify connects anywhere',
    reload: 'live',
  },
  'allowed-host': {
    kind: 'list',
    group: 'Operations',
    help: "only these Host names, e.g. 'vnc.example.com 192.0.2.1' (DNS rebinding defence); others get 421",
    arg: 'NAMES',
    shown: 'automatic',
    detail:
      "only these `Host` names on pages and upgrades; others get 421 (DNS rebinding). Without it: IP literals, `localhost`, the listen host, this machine's names and the certificate's DNS names; `any` turns the check off",
    websockify: 'new',
    reload: 'live',
  },
  'revalidate-interval': {
    kind: 'string',
    default: '0',
    group: 'Operations',
    help: "re-check every live session's token every N seconds; revoked ones close with 1008 (0 = off)",
    arg: 'SEC',
    detail: "re-resolve every live session's token every SEC seconds; a revoked one closes with 1008",
    websockify: 'websockify keeps revoked sessions (#229)',
    reload: 'live',
  },
  'verify-client': {
    kind: 'string',
    group: 'TLS',
    help: 'client certificates: off, optional (403 at the upgrade without a verified one) or required (refused at the handshake; covers pages, files, upstream; plain http:// gets 403); bare = required',
    arg: '[MODE]',
    shown: '`off`',
    detail:
      'client certificates: `off`, `optional` (handshake without one; the upgrade needs a verified one → 403), `required` (refused at the handshake; plain `http://` requests get 403 too); a bare flag means `required`',
    websockify: 'websockify has only required; plain `ws://` is refused too (see next rows)',
    reload: 'live',
    values: ['off', 'optional', 'required'],
    bare: 'required',
  },
  cafile: {
    kind: 'string',
    alias: 'client-ca',
    group: 'TLS',
    help: 'PEM CA certificate(s) client certificates must chain to [default: system CAs]',
    arg: 'FILE',
    shown: 'system CAs',
    detail: 'PEM CA certificate(s) client certificates must chain to',
    websockify: 'same; reloaded on change',
    reload: 'live',
  },
  crl: {
    kind: 'string',
    group: 'TLS',
    help: 'PEM certificate revocation list for client certificates (reloaded on change)',
    arg: 'FILE',
    detail: 'PEM revocation list for client certificates; reloaded on change',
    websockify: 'new',
    reload: 'live',
  },
  'verify-depth': {
    kind: 'string',
    group: 'TLS',
    help: 'most intermediate CAs allowed above a client certificate',
    arg: 'N',
    shown: 'unlimited',
    detail: 'most intermediate CAs between a client certificate and the trusted CA',
    websockify: 'new',
    reload: 'live',
  },
  'allow-plain-with-verify-client': {
    kind: 'boolean',
    default: false,
    group: 'TLS',
    help: 'let plain ws:// upgrades (and, with required, plain http:// requests) through although --verify-client is on',
    detail:
      'let plain `ws://` upgrades (and, with `required`, plain `http://` requests) through although `--verify-client` is on',
    websockify: 'websockify always lets them through',
    reload: 'live',
  },
  'client-cert-allow': {
    kind: 'string',
    group: 'TLS',
    help: "only client certificates whose CN or a SAN matches may upgrade: 'alice *.ops.example' (space/comma list, *. = one label)",
    arg: "'PATTERN …'",
    shown: 'any verified',
    detail:
      'only certificates whose CN or a SAN matches one of the space/comma-separated patterns (`*.example.com` = one label) may upgrade; others 403',
    websockify: 'new',
    reload: 'live',
  },
  'tls-profile': {
    kind: 'string',
    default: 'intermediate',
    group: 'TLS',
    help: 'Mozilla profile: intermediate (TLS 1.2 ECDHE+AEAD and TLS 1.3) or modern (TLS 1.3 only)',
    arg: 'NAME',
    detail: 'Mozilla profile: `intermediate` (TLS 1.2 ECDHE+AEAD, TLS 1.3) or `modern` (TLS 1.3 only)',
    websockify: 'new',
    reload: 'live',
  },
  'ssl-version': {
    kind: 'string',
    default: 'default',
    group: 'TLS',
    help: 'lowest TLS version: default, tlsv1_1, tlsv1_2, tlsv1_3 (below 1.2 warns)',
    arg: 'VER',
    detail: "lowest TLS version: `default` (the profile's), `tlsv1_1` (warns), `tlsv1_2`, `tlsv1_3`",
    websockify: 'same names; default is TLS 1.2',
    reload: 'live',
  },
  'ssl-ciphers': {
    kind: 'string',
    group: 'TLS',
    help: "OpenSSL cipher list for TLS 1.2 [default: the profile's ECDHE+AEAD suites]",
    arg: 'LIST',
    shown: 'profile',
    detail: 'OpenSSL cipher list for TLS 1.2',
    websockify: 'same; TLS 1.3 suites go in `--tls13-ciphers`',
    reload: 'live',
  },
  'tls13-ciphers': {
    kind: 'string',
    group: 'TLS',
    help: 'TLS 1.3 suites, e.g. TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256',
    arg: 'LIST',
    shown: "OpenSSL's 3 AEADs",
    detail: 'TLS 1.3 suites (`TLS_AES_128_GCM_SHA256:…`)',
    websockify: 'new',
    reload: 'live',
  },
  'ecdh-curve': {
    kind: 'string',
    group: 'TLS',
    help: 'key-exchange groups, filtered to what OpenSSL supports [default: X25519MLKEM768 (if available):X25519:P-256:P-384]',
    arg: 'LIST',
    shown: '`X25519MLKEM768:X25519:P-256:P-384`',
    detail: 'key-exchange groups, filtered to what the linked OpenSSL supports',
    websockify: 'new',
    reload: 'live',
  },
  dhparam: {
    kind: 'string',
    group: 'TLS',
    help: 'PEM DH parameters; enables DHE suites (none without it)',
    arg: 'FILE',
    detail: 'PEM DH parameters; enables DHE suites (none without it)',
    websockify: 'new',
    reload: 'live',
  },
  chain: {
    kind: 'string',
    group: 'TLS',
    help: 'PEM intermediate certificates sent after --cert',
    arg: 'FILE',
    detail: 'PEM intermediate certificates sent after `--cert` (or put them into the `--cert` file)',
    websockify: 'new',
    reload: 'live',
  },
  hsts: {
    kind: 'string',
    default: '0',
    group: 'TLS',
    help: 'send Strict-Transport-Security with this max-age on https responses (0 = off; only with a CA-trusted certificate)',
    arg: 'SEC',
    detail: '`Strict-Transport-Security: max-age=SEC` on https responses; only with a CA-trusted certificate',
    websockify: 'new',
    reload: 'live',
  },
  'session-tickets': {
    kind: 'boolean',
    default: true,
    group: 'TLS',
    help: 'TLS session tickets (keys rotated every --session-ticket-rotate); --no-session-tickets turns them off',
    detail: 'TLS session tickets, keys rotated every `--session-ticket-rotate` and on every reload',
    websockify: "new (websockify: OpenSSL's default, never rotated)",
    reload: 'live',
  },
  'session-ticket-rotate': {
    kind: 'string',
    default: '86400',
    group: 'TLS',
    help: 'seconds between session ticket key rotations',
    arg: 'SEC',
    detail: 'seconds between ticket key rotations',
    websockify: 'new',
    reload: 'live',
  },
  'watch-certs': {
    kind: 'boolean',
    default: true,
    group: 'TLS',
    help: 'reload certificate, key, chain, CA and CRL files when they change (SIGHUP always reloads); --no-watch-certs turns the watch off',
    detail: 'reload certificate, key, chain, CA, CRL and DH files when they change; SIGHUP always reloads',
    websockify: 'websockify reads the files per connection',
    reload: 'live',
  },
  help: {
    kind: 'boolean',
    alias: 'h',
    default: false,
    group: 'General',
    help: 'show this help and exit',
    detail: 'show the help',
    reload: 'none',
    command: 'any',
    env: false,
  },
  version: {
    kind: 'boolean',
    default: false,
    group: 'General',
    help: 'print the version and exit',
    detail: 'print the version',
    reload: 'none',
    command: 'any',
    env: false,
  },
  'generate-certs': {
    kind: 'boolean',
    default: false,
    group: 'Certificates',
    help: "same as 'wsproxy cert init' (butterfly's spelling)",
    detail: 'same as `wsproxy cert init`',
    websockify: "butterfly's flag; websockify has none",
    reload: 'none',
    command: 'cert',
  },
  'generate-user-pkcs': {
    kind: 'string',
    group: 'Certificates',
    help: "same as 'wsproxy cert user NAME' (butterfly's spelling)",
    arg: 'NAME',
    detail: 'same as `wsproxy cert user NAME`',
    websockify: "butterfly's flag; a password is required",
    reload: 'none',
    command: 'cert',
  },
  host: {
    kind: 'list',
    greedy: true,
    group: 'Certificates',
    help: "cert init: host names and IP addresses for the server certificate [default: this machine's names]",
    arg: 'NAME…',
    shown: "this machine's names",
    detail: "`cert init`: host names and IP addresses for the server certificate's SAN",
    websockify: 'new',
    reload: 'none',
    command: 'cert',
  },
  days: {
    kind: 'string',
    group: 'Certificates',
    help: 'cert init/user: validity in days (server at most 825) [default: 365]',
    arg: 'N',
    shown: '`365`',
    detail: "`cert init`/`cert user`: validity (server at most 825, Apple's limit)",
    websockify: 'new',
    reload: 'none',
    command: 'cert',
  },
  'cert-dir': {
    kind: 'string',
    group: 'Certificates',
    help: 'cert: the CA directory [default: <state dir>/ca]',
    arg: 'DIR',
    shown: '`<state dir>/ca`',
    detail: '`cert …`: the CA directory (refused inside `--web`)',
    websockify: 'new',
    reload: 'none',
    command: 'cert',
  },
  'p12-password-file': {
    kind: 'string',
    group: 'Certificates',
    help: 'cert user: read the .p12 password from the first line of FILE (else $WSPROXY_P12_PASSWORD, else a prompt)',
    arg: 'FILE',
    detail: '`cert user`: the `.p12` password is the first line of FILE (else `$WSPROXY_P12_PASSWORD`, else a prompt)',
    websockify: 'new',
    reload: 'none',
    command: 'cert',
  },
  'p12-compat': {
    kind: 'boolean',
    default: false,
    group: 'Certificates',
    help: 'cert user: 3DES/SHA-1 .p12 for macOS Keychain instead of AES-256/SHA-256',
    detail: '`cert user`: 3DES/SHA-1 `.p12` for macOS Keychain instead of AES-256/SHA-256 (never RC2)',
    websockify: 'new',
    reload: 'none',
    command: 'cert',
  },
  'ssl-target': {
    kind: 'boolean',
    default: false,
    group: 'Target TLS',
    help: 'connect to the target with TLS, verifying its certificate and host name (system CAs unless --target-ca)',
    detail:
      'connect to the target with TLS; its certificate and host name are verified (system CAs unless `--target-ca`)',
    websockify: 'websockify verifies against system CAs only, with no way to trust a private CA (#506)',
    reload: 'live',
  },
  'target-ca': {
    kind: 'string',
    group: 'Target TLS',
    help: 'trust these PEM CA certificates for the target instead of the system store',
    arg: 'FILE',
    shown: 'system CAs',
    detail: 'PEM CA certificate(s) to trust for the target instead of the system store',
    websockify: 'new',
    reload: 'live',
  },
  'target-servername': {
    kind: 'string',
    group: 'Target TLS',
    help: "SNI and the name the target's certificate must carry [default: the target host]",
    arg: 'NAME',
    shown: 'the target host',
    detail: "SNI and the name the target's certificate must carry",
    websockify: 'new',
    reload: 'live',
  },
  'target-verify': {
    kind: 'string',
    default: 'required',
    group: 'Target TLS',
    help: 'required, or none (no verification: anyone on the path can read the session; warned at start)',
    arg: 'required|none',
    detail: '`none` skips verification of the target (warned at start)',
    websockify: 'new',
    reload: 'live',
    needsValue: true,
  },
  'target-cert': {
    kind: 'string',
    group: 'Target TLS',
    help: 'PEM client certificate (and key) wsproxy shows to the target',
    arg: 'FILE',
    detail: 'PEM client certificate (and key) wsproxy presents to the target',
    websockify: 'new',
    reload: 'live',
  },
  'target-key': {
    kind: 'string',
    group: 'Target TLS',
    help: 'PEM key of --target-cert, if not inside it',
    arg: 'FILE',
    detail: 'key of `--target-cert`, if not inside it',
    websockify: 'new',
    reload: 'live',
  },
  'wrap-mode': {
    kind: 'string',
    default: 'exit',
    group: 'Process',
    help: 'when the program after -- exits: exit (wsproxy too, with its code), ignore, or respawn (at most 3 starts per 10 s)',
    arg: 'exit|ignore|respawn',
    detail:
      'what to do when the program after `--` exits: exit (with its status), keep running, or start it again (at most 3 starts per 10 s on average)',
    websockify: 'same modes and throttle',
    reload: 'restart',
  },
  'wrap-target': {
    kind: 'string',
    group: 'Process',
    help: 'where the program after -- listens (host:port); every session is relayed there',
    arg: 'HOST:PORT',
    detail: 'where the program after `--` listens; every session is relayed there (required with `--`)',
    websockify: "websockify moves the program's port with an `LD_PRELOAD` library instead",
    reload: 'restart',
  },
  daemon: {
    kind: 'boolean',
    alias: 'D',
    default: false,
    group: 'Process',
    help: 'detach into the background once listening (output to /dev/null; use --log-file or --syslog)',
    detail: 'detach into the background once listening; output to /dev/null, or to `--log-file`',
    websockify: 'the command returns only when the daemon listens, and fails with its error otherwise',
    reload: 'restart',
  },
  'pid-file': {
    kind: 'string',
    group: 'Process',
    help: 'write the process id to FILE (atomically); refuse to start if it names a running process',
    arg: 'FILE',
    detail:
      'write the process id to FILE (atomically), remove it on exit; refuse to start if it names a running process',
    websockify: 'new (websockify has no pid file)',
    reload: 'restart',
  },
  syslog: {
    kind: 'string',
    group: 'Process',
    help: 'also send log lines to syslog: host:port (UDP) or a unix socket path such as /dev/log (RFC 5424)',
    arg: 'HOST:PORT|PATH',
    detail:
      'also send every log line to syslog: UDP to HOST:PORT, or a unix socket such as `/dev/log` (RFC 5424; facility user, daemon with `-D`)',
    websockify: 'never fatal: an unusable destination is one warning',
    reload: 'restart',
  },
  'legacy-syslog': {
    kind: 'boolean',
    default: false,
    group: 'Process',
    help: 'use the old BSD syslog format (RFC 3164) for --syslog',
    detail: 'BSD syslog format (RFC 3164) for `--syslog`',
    websockify: 'same',
    reload: 'restart',
    reports: 'syslog',
  },
} as const satisfies Record<string, OptionSpec>;

type Table = typeof OPTION_TABLE;
/** A long option name (`target-ca`). */
export type OptionName = keyof Table;
type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
/** An option's `CliArgs` key (`targetCa`). */
export type OptionKey = Camel<OptionName>;

/** Every option with its entry, in table order. */
export const OPTION_ENTRIES: readonly (readonly [string, OptionSpec])[] = Object.entries(OPTION_TABLE);

/** Every long option name, in table order. */
export const OPTION_NAMES: readonly string[] = Object.keys(OPTION_TABLE);

/** The entry of an option name (`undefined` for a name that is none). */
export function optionSpec(name: string): OptionSpec | undefined {
  return Object.hasOwn(OPTION_TABLE, name) ? (OPTION_TABLE as Record<string, OptionSpec>)[name] : undefined;
}

/** The `--help` line: the help text, and the default `resolveConfig` applies when it is not the parser's. */
export function helpLine(spec: OptionSpec): string {
  if (spec.fallback === undefined) return spec.help;
  const note = spec.fallbackNote === undefined ? '' : `, ${spec.fallbackNote}`;
  return `${spec.help} [default: ${spec.fallback}${note}]`;
}

/** `tokenPlugin`, `token_plugin` or `tls13Ciphers` → `token-plugin`, `tls13-ciphers`: the option name of a key. */
export function optionName(key: string): string {
  return key
    .replace(/_/g, '-')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();
}

/** `token-plugin` → `tokenPlugin`: the `CliArgs` key of an option name. */
export function optionKey(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The flag as messages spell it: `flag('targetCa')` is `--target-ca`. */
export function flag(key: OptionKey): string {
  return `--${optionName(key)}`;
}

/** `token-plugin` → `WSPROXY_TOKEN_PLUGIN` (by rule; `undefined` for help and version, which have none). */
export function envName(name: string): string | undefined {
  if (optionSpec(name)?.env === false) return undefined;
  return `WSPROXY_${name.toUpperCase().replace(/-/g, '_')}`;
}

/** The reload report names an option feeds (its own name unless the table says otherwise; none for `none`). */
export function reportsOf(name: string): readonly string[] {
  const spec = optionSpec(name);
  if (spec === undefined || spec.reload === 'none') return [];
  if (spec.reports === undefined) return [name];
  return typeof spec.reports === 'string' ? [spec.reports] : spec.reports;
}

type ReportOf<K extends OptionName> = Table[K] extends { reload: 'none' }
  ? never
  : Table[K] extends { reports: infer R extends string | readonly string[] }
    ? R extends readonly string[]
      ? R[number]
      : R
    : K;
/** A reload report name's camelCase key (`allowOrigin`, `listen`): one per name the reloadable options feed. */
export type ReportKey = Camel<{ [K in OptionName]: ReportOf<K> }[OptionName]>;

// `CliArgs`: one member per serving option (camelCase), typed by its kind, plus the positionals and the `--` command.
type ArgName = { [K in OptionName]: Table[K] extends { command: string } | { ignored: true } ? never : K }[OptionName];
type ValueOf<E> = E extends { kind: 'boolean' }
  ? boolean
  : E extends { kind: 'list' }
    ? readonly string[]
    : E extends { default: string }
      ? string
      : string | undefined;
type RequiredArg = { [K in ArgName]: Table[K] extends { required: true } ? K : never }[ArgName];
type Flatten<T> = { [K in keyof T]: T[K] };

/** Values as the command line delivers them; `cli.ts` produces this, `resolveConfig` checks it. */
export type CliArgs = Flatten<
  {
    readonly positionals: readonly string[];
    /** Everything after `--`: the program to wrap. */
    readonly wrapCommand?: readonly string[];
    /** A space/comma list in one value (the last flag wins), split by the parser. */
    readonly clientCertAllow?: readonly string[];
  } & { readonly [K in RequiredArg as Camel<K>]: ValueOf<Table[K]> } & {
    readonly [K in Exclude<ArgName, RequiredArg | 'client-cert-allow'> as Camel<K>]?: ValueOf<Table[K]> | undefined;
  }
>;

const seconds = (name: OptionName): number => Number((OPTION_TABLE[name] as OptionSpec).default);

/** Defaults shared by the CLI and code that builds `Config` directly (from the table: each is written once). */
export const DEFAULTS = {
  cert: OPTION_TABLE.cert.fallback,
  handshakeTimeoutSeconds: seconds('handshake-timeout'),
  connectTimeoutSeconds: seconds('connect-timeout'),
  maxMessageSize: OPTION_TABLE['max-message-size'].default,
  maxBufferedTotal: OPTION_TABLE['max-buffered-total'].fallback,
  maxConnections: seconds('max-connections'),
  maxConnectionsPerIp: seconds('max-connections-per-ip'),
  highWaterMark: OPTION_TABLE['high-water-mark'].default,
  shutdownTimeoutSeconds: seconds('shutdown-timeout'),
  heartbeatSeconds: seconds('heartbeat'),
  drainTimeoutSeconds: seconds('drain-timeout'),
  sessionTicketRotateSeconds: seconds('session-ticket-rotate'),
  authFailureLimit: OPTION_TABLE['auth-failure-limit'].default,
} as const;
