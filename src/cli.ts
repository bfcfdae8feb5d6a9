/**
 * The command line: websockify's positionals and flags as a yargs spec, turned into `CliArgs`. This file owns every
 * option's name, alias, default and help text (docs/options.md is generated from it by `npm run docs`). It
 * never exits or prints: `main.ts` does that with what `parseCommandLine` returns.
 */
import yargs from 'yargs';
import {
  configFileFromArgv,
  optionsFromEnv,
  optionsFromFile,
  type OptionKinds,
  type SourceValues,
} from './cli-sources.js';
import { SourceError, UsageError } from './errors.js';
import type { CertArgs } from './cert-command.js';
import { DEFAULTS, type CliArgs } from './config/args.js';

/** The config file a command line uses (`--config FILE`, else `WSPROXY_CONFIG`), if any: named in reload errors. */
export function configFileOf(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const file = configFileFromArgv(argv) ?? env['WSPROXY_CONFIG'];
  return file === undefined || file === '' ? undefined : file;
}

/** What the command line asks for. */
export type CommandLine =
  | { kind: 'run'; args: CliArgs; notices: readonly string[] }
  | { kind: 'check'; args: CliArgs; notices: readonly string[] }
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { kind: 'cert'; args: CertArgs };

const USAGE = `Usage:
  wsproxy [options] [source_addr:]source_port target_addr:target_port
  wsproxy [options] [source_addr:]source_port unix:/path/to/target.sock
  wsproxy [options] --token-plugin TokenFile --token-source FILE [source_addr:]source_port
  wsproxy --demo [options] [source_addr:]source_port
  wsproxy check [options] ...     validate the same options without serving: certificate, listen address, target
  wsproxy cert init|user NAME|revoke NAME|list [--cert-dir DIR] [--host NAME…] [--days N]
  wsproxy [options] --wrap-target host:port [source_addr:]source_port -- COMMAND [ARGS...]

One port serves ws:// and wss:// (the first byte of each connection decides), the built-in pages (or --web DIR)
over http:// and https://, and relays every WebSocket session to the target as binary frames.`;

const EXAMPLES: [string, string][] = [
  [
    'wsproxy --cert self.pem 6080 localhost:5900',
    'noVNC at ws(s)://host:6080/websockify reaches the VNC server on :5900',
  ],
  ['wsproxy --demo 6080', 'built-in echo target and a self-signed certificate, to try it out'],
  ['wsproxy --web /usr/share/novnc [::1]:6080 [2001:db8::1]:5900', 'serve noVNC and relay, IPv6 on both sides'],
];

/**
 * The option spec (also read by scripts/gen-docs.mjs for docs/options.md). Numeric options are read as strings so that `resolveConfig` can say exactly what was wrong with
 * them (yargs would turn `10s` into NaN).
 */
export const OPTIONS = {
  cert: {
    type: 'string',
    describe: `TLS certificate chain in PEM, may also hold the key [default: ${DEFAULTS.cert}]`,
    group: 'TLS:',
  },
  key: { type: 'string', describe: 'TLS private key in PEM, if not inside --cert', group: 'TLS:' },
  'key-password': { type: 'string', describe: 'passphrase of an encrypted --key (never logged)', group: 'TLS:' },
  'ssl-only': { type: 'boolean', default: false, describe: 'refuse plain ws:// and http:// clients', group: 'TLS:' },
  'state-dir': {
    type: 'string',
    describe: 'where the generated certificate is kept (no --cert and no self.pem) [default: $XDG_STATE_HOME/wsproxy]',
    group: 'TLS:',
  },
  web: {
    type: 'string',
    describe: 'serve files from DIR on the same port (GET/HEAD; no listings, no dotfiles)',
    group: 'HTTP:',
  },
  'web-csp': {
    type: 'string',
    describe:
      'Content-Security-Policy header for --web files, e.g. "default-src \'self\'" (default: none; built-in pages keep their strict one)',
    group: 'HTTP:',
  },
  'file-only': {
    type: 'boolean',
    default: false,
    describe: 'accepted for websockify compatibility; listings are always off',
    group: 'HTTP:',
  },
  'allow-origin': {
    type: 'string',
    array: true,
    nargs: 1,
    default: [] as string[],
    describe:
      "extra allowed page Origins (scheme://host[:port]) or '*', several space-separated in one value; same-host pages are always allowed",
    group: 'WebSocket:',
  },
  'max-message-size': {
    type: 'string',
    default: DEFAULTS.maxMessageSize,
    describe: 'largest client message; bigger ones close the session with 1009 (above 0: there must be a bound)',
    group: 'WebSocket:',
  },
  'max-buffered-total': {
    type: 'string',
    describe: `bytes of unfinished client messages (fragments without their last frame) all sessions may hold together; the session that would pass it is closed with 1009 (0 = no limit) [default: ${DEFAULTS.maxBufferedTotal}, at least --max-message-size]`,
    group: 'WebSocket:',
  },
  'high-water-mark': {
    type: 'string',
    default: DEFAULTS.highWaterMark,
    describe: 'bytes buffered towards one side before the other side is paused',
    group: 'WebSocket:',
  },
  'connect-timeout': {
    type: 'string',
    default: String(DEFAULTS.connectTimeoutSeconds),
    describe: 'seconds to connect to the target (all resolved addresses) before answering 504 (above 0)',
    group: 'Limits:',
  },
  'handshake-timeout': {
    type: 'string',
    default: String(DEFAULTS.handshakeTimeoutSeconds),
    describe: 'seconds for first byte + TLS handshake + request headers (above 0)',
    group: 'Limits:',
  },
  'max-connections': {
    type: 'string',
    default: String(DEFAULTS.maxConnections),
    describe: 'open client connections at most; extra ones are closed (0 = no limit)',
    group: 'Limits:',
  },
  'max-connections-per-ip': {
    type: 'string',
    default: String(DEFAULTS.maxConnectionsPerIp),
    describe:
      'open connections per client address at most, IPv6 counted per /64, the forwarded client with --trust-forwarded (0 = no limit)',
    group: 'Limits:',
  },
  'shutdown-timeout': {
    type: 'string',
    default: String(DEFAULTS.shutdownTimeoutSeconds),
    describe:
      'seconds sessions sent 1001 at shutdown (SIGINT at once, SIGTERM after --drain-timeout) may take to close before they are cut (0 = cut at once)',
    group: 'Limits:',
  },
  'token-plugin': {
    type: 'string',
    describe:
      'choose the target per connection by token: TokenFile, ReadOnlyTokenFile, TokenFileName, UnixDomainSocketDirectory, BaseTokenAPI, JSONTokenApi, JWTTokenApi, or ./your-resolver.js',
    group: 'Tokens:',
  },
  'token-source': {
    type: 'string',
    describe:
      "the token plugin's source: a file or directory of 'token: host:port' lines, or a directory of files named by token",
    group: 'Tokens:',
  },
  'target-config': {
    type: 'string',
    describe: 'deprecated: same as --token-plugin TokenFile --token-source FILE',
    group: 'Tokens:',
  },
  'token-jwt-audience': {
    type: 'string',
    describe: "JWTTokenApi: the token's aud claim must include this",
    group: 'Tokens:',
  },
  'token-jwt-issuer': { type: 'string', describe: "JWTTokenApi: the token's iss claim must be this", group: 'Tokens:' },
  'token-jwt-allow-no-exp': {
    type: 'boolean',
    default: false,
    describe: 'JWTTokenApi: accept tokens without an exp claim (they never expire; refused by default)',
    group: 'Tokens:',
  },
  'token-hash-key-file': {
    type: 'string',
    describe: 'FILE holds the secret that keys token_hash (share it across a fleet) [default: made in the state dir]',
    group: 'Tokens:',
  },
  'host-token': {
    type: 'boolean',
    default: false,
    describe: 'take the token from the Host header (without port) instead of ?token=',
    group: 'Tokens:',
  },
  'token-from-path': {
    type: 'boolean',
    default: false,
    describe: 'take the token from the last path segment instead of ?token=',
    group: 'Tokens:',
  },
  'auth-plugin': {
    type: 'string',
    describe: 'authorise each WebSocket: BasicHTTPAuth, ExpectOrigin, ClientCertCNAuth, or ./your-auth.js',
    group: 'Auth:',
  },
  'auth-source': {
    type: 'string',
    describe: "the auth plugin's argument: user:password (BasicHTTPAuth) or allowed origins (ExpectOrigin)",
    group: 'Auth:',
  },
  'web-auth': {
    type: 'boolean',
    default: false,
    describe: 'require the auth plugin for pages and files too',
    group: 'Auth:',
  },
  record: { type: 'string', describe: "record each session to FILE.<n> in noVNC's playback format", group: 'General:' },
  'run-once': {
    type: 'boolean',
    default: false,
    describe: 'handle one WebSocket session, then exit',
    group: 'General:',
  },
  timeout: {
    type: 'string',
    default: '0',
    describe: 'stop accepting N seconds after start and exit once sessions end (0 = never)',
    group: 'General:',
  },
  'idle-timeout': {
    type: 'string',
    default: '0',
    describe: 'exit after N seconds without any session (0 = never)',
    group: 'General:',
  },
  heartbeat: {
    type: 'string',
    default: String(DEFAULTS.heartbeatSeconds),
    describe: 'ping clients every N seconds and cut those that do not answer by the next ping (0 = off)',
    group: 'WebSocket:',
  },
  'unix-listen': {
    type: 'string',
    describe: 'listen on this unix socket instead of TCP (then no source_port is given)',
    group: 'Listening:',
  },
  'unix-listen-mode': {
    type: 'string',
    default: '600',
    describe: 'octal mode of the --unix-listen socket',
    group: 'Listening:',
  },
  inetd: {
    type: 'boolean',
    default: false,
    describe: 'the listening socket is file descriptor 0 (inetd/systemd Accept=no style)',
    group: 'Listening:',
  },
  'prefer-ipv6': {
    alias: '6',
    type: 'boolean',
    default: false,
    describe: 'when the listen host name resolves to both, listen on its IPv6 address',
    group: 'Listening:',
  },
  'unix-target': {
    type: 'string',
    describe: 'relay to this unix socket (same as a target unix:/path)',
    group: 'Tokens:',
  },
  'text-frames': {
    type: 'string',
    default: 'reject',
    describe: 'text frames from clients: reject (close 1003, as websockify) or binary (relay their bytes)',
    group: 'WebSocket:',
  },
  traffic: {
    type: 'boolean',
    default: false,
    describe: 'print a character per frame on stdout ({ target read, < client write, } client read, > target write)',
    group: 'General:',
  },
  libserver: {
    type: 'boolean',
    default: false,
    describe: 'accepted for websockify compatibility and ignored (wsproxy has one server)',
    group: 'General:',
  },
  workers: {
    type: 'string',
    default: '1',
    describe: "serve the port with N processes (node:cluster), or 'auto' for one per core",
    group: 'Listening:',
  },
  'http-upstream': {
    type: 'string',
    describe:
      'reverse-proxy ordinary HTTP requests that wsproxy does not answer itself to this http(s) URL (one port for an app and its tunnel)',
    group: 'HTTP:',
  },
  'upstream-underscore-headers': {
    type: 'boolean',
    default: false,
    describe:
      "pass request headers whose names contain '_' on to --http-upstream (dropped by default, as nginx does); forged forwarding and client-certificate headers are dropped either way",
    group: 'HTTP:',
  },
  demo: {
    type: 'boolean',
    default: false,
    describe: 'relay to a built-in echo service and make a self-signed certificate if none exists',
    group: 'General:',
  },
  verbose: {
    alias: 'v',
    type: 'boolean',
    default: false,
    describe: 'debug logging (handshake failures with their reason codes)',
    group: 'General:',
  },
  'log-file': { type: 'string', describe: 'also append log lines to FILE (created 0600)', group: 'General:' },
  'log-format': {
    type: 'string',
    default: 'auto',
    describe: 'log lines as text or json; auto: text on a terminal, JSON otherwise',
    group: 'General:',
  },
  'log-level': {
    type: 'string',
    describe: 'debug, info, warn or error [default: info, or debug with -v]',
    group: 'General:',
  },
  'admin-listen': {
    type: 'string',
    describe:
      'serve /metrics, /healthz, /readyz and /sessions on this address: host:port, a port (loopback) or unix:/path',
    group: 'Operations:',
  },
  'admin-token-file': {
    type: 'string',
    describe:
      'FILE holds a bearer token the admin routes require (not /healthz, /readyz); required when --admin-listen is not loopback',
    group: 'Operations:',
  },
  'drain-timeout': {
    type: 'string',
    default: String(DEFAULTS.drainTimeoutSeconds),
    describe:
      'seconds SIGTERM lets live sessions go on (no new connections) before closing them with 1001 (0 = close at once)',
    group: 'Operations:',
  },
  config: {
    type: 'string',
    describe: 'read options from a YAML or JSON file (keys are flag names; flags > WSPROXY_* environment > file)',
    group: 'General:',
  },
  'proxy-protocol-in': {
    type: 'boolean',
    default: false,
    describe: 'every connection starts with a PROXY protocol v1/v2 header from a --trusted-proxy balancer',
    group: 'Operations:',
  },
  'trusted-proxy': {
    type: 'string',
    array: true,
    nargs: 1,
    default: [] as string[],
    describe: "CIDRs of balancers/reverse proxies allowed to state the client address (several: '10.0.0.0/8 fd00::/8')",
    group: 'Operations:',
  },
  'trust-forwarded': {
    type: 'boolean',
    default: false,
    describe: 'take the client address from Forwarded / X-Forwarded-For sent by a --trusted-proxy',
    group: 'Operations:',
  },
  'proxy-protocol-out': {
    type: 'string',
    describe: 'send the real client address to the target first: v1 or v2',
    group: 'Operations:',
  },
  'max-sessions-per-token': {
    type: 'string',
    default: '0',
    describe: 'live sessions per token at most, in this process (across the fleet with TokenRedis; 0 = no limit)',
    group: 'Operations:',
  },
  'auth-failure-limit': {
    type: 'string',
    default: '10/min',
    describe:
      'unknown tokens and failed auth per client address, e.g. 10/min; beyond it token and auth checks get 429 (0 = no limit)',
    group: 'Operations:',
  },
  'rate-limit': {
    type: 'string',
    describe: 'WebSocket handshakes per client address, e.g. 10/s or 600/min (429 beyond; 0 = no limit, the default)',
    group: 'Operations:',
  },
  'allow-target': {
    type: 'string',
    array: true,
    nargs: 1,
    default: [] as string[],
    describe:
      "only these target ranges, checked after DNS: CIDR[:ports], several space-separated, e.g. '10.0.0.0/8:5900-5999 192.0.2.7:22'",
    group: 'Operations:',
  },
  'allowed-host': {
    type: 'string',
    array: true,
    nargs: 1,
    default: [] as string[],
    describe: "only these Host names, e.g. 'vnc.example.com 192.0.2.1' (DNS rebinding defence); others get 421",
    group: 'Operations:',
  },
  'revalidate-interval': {
    type: 'string',
    default: '0',
    describe: "re-check every live session's token every N seconds; revoked ones close with 1008 (0 = off)",
    group: 'Operations:',
  },
  // TLS: client certificates and protocol settings.
  'verify-client': {
    type: 'string',
    describe:
      'client certificates: off, optional (403 at the upgrade without a verified one) or required (refused at the handshake; covers pages, files, upstream; plain http:// gets 403); bare = required',
    group: 'TLS:',
  },
  cafile: {
    alias: 'client-ca',
    type: 'string',
    describe: 'PEM CA certificate(s) client certificates must chain to [default: system CAs]',
    group: 'TLS:',
  },
  crl: {
    type: 'string',
    describe: 'PEM certificate revocation list for client certificates (reloaded on change)',
    group: 'TLS:',
  },
  'verify-depth': {
    type: 'string',
    describe: 'most intermediate CAs allowed above a client certificate',
    group: 'TLS:',
  },
  'allow-plain-with-verify-client': {
    type: 'boolean',
    default: false,
    describe:
      'let plain ws:// upgrades (and, with required, plain http:// requests) through although --verify-client is on',
    group: 'TLS:',
  },
  'client-cert-allow': {
    type: 'string',
    describe:
      "only client certificates whose CN or a SAN matches may upgrade: 'alice *.ops.example' (space/comma list, *. = one label)",
    group: 'TLS:',
  },
  'tls-profile': {
    type: 'string',
    default: 'intermediate',
    describe: 'Mozilla profile: intermediate (TLS 1.2 ECDHE+AEAD and TLS 1.3) or modern (TLS 1.3 only)',
    group: 'TLS:',
  },
  'ssl-version': {
    type: 'string',
    default: 'default',
    describe: 'lowest TLS version: default, tlsv1_1, tlsv1_2, tlsv1_3 (below 1.2 warns)',
    group: 'TLS:',
  },
  'ssl-ciphers': {
    type: 'string',
    describe: "OpenSSL cipher list for TLS 1.2 [default: the profile's ECDHE+AEAD suites]",
    group: 'TLS:',
  },
  'tls13-ciphers': {
    type: 'string',
    describe: 'TLS 1.3 suites, e.g. TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256',
    group: 'TLS:',
  },
  'ecdh-curve': {
    type: 'string',
    describe:
      'key-exchange groups, filtered to what OpenSSL supports [default: X25519MLKEM768 (if available):X25519:P-256:P-384]',
    group: 'TLS:',
  },
  dhparam: { type: 'string', describe: 'PEM DH parameters; enables DHE suites (none without it)', group: 'TLS:' },
  chain: { type: 'string', describe: 'PEM intermediate certificates sent after --cert', group: 'TLS:' },
  hsts: {
    type: 'string',
    default: '0',
    describe:
      'send Strict-Transport-Security with this max-age on https responses (0 = off; only with a CA-trusted certificate)',
    group: 'TLS:',
  },
  'session-tickets': {
    type: 'boolean',
    default: true,
    describe: 'TLS session tickets (keys rotated every --session-ticket-rotate); --no-session-tickets turns them off',
    group: 'TLS:',
  },
  'session-ticket-rotate': {
    type: 'string',
    default: String(DEFAULTS.sessionTicketRotateSeconds),
    describe: 'seconds between session ticket key rotations',
    group: 'TLS:',
  },
  'watch-certs': {
    type: 'boolean',
    default: true,
    describe:
      'reload certificate, key, chain, CA and CRL files when they change (SIGHUP always reloads); --no-watch-certs turns the watch off',
    group: 'TLS:',
  },
  help: { alias: 'h', type: 'boolean', default: false, describe: 'show this help and exit', group: 'General:' },
  version: { type: 'boolean', default: false, describe: 'print the version and exit', group: 'General:' },
  // `wsproxy cert …`: own CA, server and user certificates (src/cert-command.ts).
  'generate-certs': {
    type: 'boolean',
    default: false,
    describe: "same as 'wsproxy cert init' (butterfly's spelling)",
    group: 'Certificates:',
  },
  'generate-user-pkcs': {
    type: 'string',
    describe: "same as 'wsproxy cert user NAME' (butterfly's spelling)",
    group: 'Certificates:',
  },
  host: {
    type: 'string',
    array: true,
    describe: "cert init: host names and IP addresses for the server certificate [default: this machine's names]",
    group: 'Certificates:',
  },
  days: {
    type: 'string',
    describe: 'cert init/user: validity in days (server at most 825) [default: 365]',
    group: 'Certificates:',
  },
  'cert-dir': { type: 'string', describe: 'cert: the CA directory [default: <state dir>/ca]', group: 'Certificates:' },
  'p12-password-file': {
    type: 'string',
    describe:
      'cert user: read the .p12 password from the first line of FILE (else $WSPROXY_P12_PASSWORD, else a prompt)',
    group: 'Certificates:',
  },
  'p12-compat': {
    type: 'boolean',
    default: false,
    describe: 'cert user: 3DES/SHA-1 .p12 for macOS Keychain instead of AES-256/SHA-256',
    group: 'Certificates:',
  },
  // TLS to the target (relay/connect.ts).
  'ssl-target': {
    type: 'boolean',
    default: false,
    describe: 'connect to the target with TLS, verifying its certificate and host name (system CAs unless --target-ca)',
    group: 'Target TLS:',
  },
  'target-ca': {
    type: 'string',
    describe: 'trust these PEM CA certificates for the target instead of the system store',
    group: 'Target TLS:',
  },
  'target-servername': {
    type: 'string',
    describe: "SNI and the name the target's certificate must carry [default: the target host]",
    group: 'Target TLS:',
  },
  'target-verify': {
    type: 'string',
    default: 'required',
    describe: 'required, or none (no verification: anyone on the path can read the session; warned at start)',
    group: 'Target TLS:',
  },
  'target-cert': {
    type: 'string',
    describe: 'PEM client certificate (and key) wsproxy shows to the target',
    group: 'Target TLS:',
  },
  'target-key': { type: 'string', describe: 'PEM key of --target-cert, if not inside it', group: 'Target TLS:' },
  'wrap-mode': {
    type: 'string',
    default: 'exit',
    describe:
      'when the program after -- exits: exit (wsproxy too, with its code), ignore, or respawn (at most 3 starts per 10 s)',
    group: 'Process:',
  },
  'wrap-target': {
    type: 'string',
    describe: 'where the program after -- listens (host:port); every session is relayed there',
    group: 'Process:',
  },
  daemon: {
    alias: 'D',
    type: 'boolean',
    default: false,
    describe: 'detach into the background once listening (output to /dev/null; use --log-file or --syslog)',
    group: 'Process:',
  },
  'pid-file': {
    type: 'string',
    describe: 'write the process id to FILE (atomically); refuse to start if it names a running process',
    group: 'Process:',
  },
  syslog: {
    type: 'string',
    describe: 'also send log lines to syslog: host:port (UDP) or a unix socket path such as /dev/log (RFC 5424)',
    group: 'Process:',
  },
  'legacy-syslog': {
    type: 'boolean',
    default: false,
    describe: 'use the old BSD syslog format (RFC 3164) for --syslog',
    group: 'Process:',
  },
} as const;

/** Every long option name the CLI accepts. */
export const OPTION_NAMES: readonly string[] = Object.keys(OPTIONS);

/** The options a config file or `WSPROXY_*` variable may set (all but help, version and config itself). */
const SOURCE_KINDS: OptionKinds = (() => {
  const entries = Object.entries(OPTIONS).filter(([name]) => !['help', 'version', 'config'].includes(name));
  return {
    all: new Set(entries.map(([name]) => name)),
    booleans: new Set(entries.filter(([, spec]) => spec.type === 'boolean').map(([name]) => name)),
    arrays: new Set(entries.filter(([, spec]) => 'array' in spec && spec.array).map(([name]) => name)),
  };
})();

/** Reads the config file (`--config` or `WSPROXY_CONFIG`) and the environment; a mistake is a `UsageError`. */
function optionSources(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { file: SourceValues; env: SourceValues; notices: string[] } {
  try {
    const file = configFileOf(argv, env);
    const fromFile = file === undefined ? { options: {}, positionals: undefined } : optionsFromFile(file, SOURCE_KINDS);
    const fromEnv = optionsFromEnv(env, SOURCE_KINDS);
    return { file: fromFile, env: fromEnv, notices: fromEnv.notices };
  } catch (err) {
    if (err instanceof SourceError) throw new UsageError(err.message, err.problem);
    throw err;
  }
}

function buildParser(argv: readonly string[]) {
  return yargs([...argv])
    .scriptName('wsproxy')
    .help(false)
    .version(false)
    .usage(USAGE)
    .options(OPTIONS)
    .example(EXAMPLES)
    .parserConfiguration({ 'populate--': true, 'unknown-options-as-args': false, 'duplicate-arguments-array': false })
    .strictOptions()
    .exitProcess(false)
    .wrap(Math.min(120, process.stdout.columns || 120))
    .epilogue('Error codes, TLS, noVNC and Docker: see README.md.')
    .fail((msg: string | undefined, err: Error | undefined) => {
      throw new UsageError(rephrase(msg ?? err?.message ?? 'invalid arguments'));
    });
}

/** Turns yargs' messages into "what is wrong; how to fix it". */
function rephrase(msg: string): string {
  const unknown = /^Unknown arguments?: (.*)$/.exec(msg);
  if (unknown?.[1]) {
    const names = unknown[1].split(', ').map((n) => (n.length === 1 ? `-${n}` : `--${n}`));
    return `unknown option ${names.join(', ')}; run 'wsproxy --help' for the list`;
  }
  const missing = /^Not enough arguments following: (.*)$/.exec(msg);
  if (missing?.[1]) return `option --${missing[1]} needs a value; run 'wsproxy --help' for its meaning`;
  return `${msg}; run 'wsproxy --help' for usage`;
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return str(v[v.length - 1]);
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

const VERIFY_MODES = new Set(['off', 'optional', 'required']);

/**
 * websockify's `--verify-client` is a switch, so `--verify-client 6080 host:5900` must not eat the port: a bare flag
 * (next word absent, an option, or not a mode) becomes `--verify-client=required` before yargs sees it.
 */
function bareVerifyClient(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i] ?? '';
    if (word === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (word === '--verify-client' && !VERIFY_MODES.has(argv[i + 1] ?? '')) out.push('--verify-client=required');
    else out.push(word);
  }
  return out;
}

/**
 * Parses argv (without `node` and the script), layered over `WSPROXY_*` variables of `env` and the `--config` file.
 * Throws `UsageError` for anything wrong in any of them.
 */
export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): CommandLine {
  // `wsproxy check ...`: the same options, validated instead of served.
  if (argv[0] === 'check') {
    const rest = parseCommandLine(argv.slice(1), env);
    return rest.kind === 'run' ? { ...rest, kind: 'check' } : rest;
  }
  const sources = optionSources(argv, env);
  // yargs gives flags precedence over .config() values, and those over defaults; env is layered over the file here.
  const parsed = buildParser(bareVerifyClient(argv))
    .config({ ...sources.file.options, ...sources.env.options })
    .parseSync();
  if (parsed.help) return { kind: 'help', text: helpText() };
  if (parsed.version) return { kind: 'version' };
  const certMode = parsed._[0] === 'cert' || parsed['generate-certs'] || parsed['generate-user-pkcs'] !== undefined;
  if (certMode) return { kind: 'cert', args: certArgs(parsed) };
  for (const name of ['host', 'days', 'cert-dir', 'p12-password-file', 'p12-compat'] as const) {
    const v = parsed[name];
    if (v !== undefined && v !== false)
      throw new UsageError(`option --${name} goes with 'wsproxy cert …'; see 'wsproxy --help'`);
  }
  const notices: string[] = [...sources.notices];
  if (parsed.libserver) notices.push('--libserver is accepted for websockify compatibility and ignored');
  for (const name of [
    'config',
    'cert',
    'key',
    'key-password',
    'web',
    'web-csp',
    'state-dir',
    'token-plugin',
    'token-source',
    'target-config',
    'auth-plugin',
    'auth-source',
    'record',
    'unix-listen',
    'unix-target',
    'log-file',
    'token-jwt-audience',
    'token-jwt-issuer',
    'proxy-protocol-out',
    'rate-limit',
    'auth-failure-limit',
    'token-hash-key-file',
    'target-ca',
    'target-servername',
    'target-verify',
    'target-cert',
    'target-key',
    'admin-listen',
    'admin-token-file',
    'log-level',
    'http-upstream',
    'wrap-target',
    'pid-file',
    'syslog',
    'cafile',
    'crl',
    'verify-depth',
    'ssl-ciphers',
    'tls13-ciphers',
    'ecdh-curve',
    'dhparam',
    'chain',
    'client-cert-allow',
    'max-buffered-total',
  ] as const) {
    const v = parsed[name];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0)) {
      throw new UsageError(`option --${name} needs a value; run 'wsproxy --help' for its meaning`);
    }
  }
  const fromArgv = parsed._.map(String);
  const positionals = fromArgv.length > 0 ? fromArgv : [...(sources.env.positionals ?? sources.file.positionals ?? [])];
  const extra = (parsed['--'] as unknown[] | undefined)?.map(String) ?? [];
  return {
    kind: 'run',
    notices,
    args: {
      positionals,
      cert: str(parsed.cert),
      key: str(parsed.key),
      keyPassword: str(parsed['key-password']),
      sslOnly: parsed['ssl-only'],
      web: str(parsed.web),
      webCsp: str(parsed['web-csp']),
      fileOnly: parsed['file-only'],
      verbose: parsed.verbose,
      demo: parsed.demo,
      stateDir: str(parsed['state-dir']),
      allowOrigin: (parsed['allow-origin'] ?? []).map(String),
      handshakeTimeout: str(parsed['handshake-timeout']) ?? '',
      connectTimeout: str(parsed['connect-timeout']) ?? '',
      maxMessageSize: str(parsed['max-message-size']) ?? '',
      maxBufferedTotal: str(parsed['max-buffered-total']),
      maxConnections: str(parsed['max-connections']) ?? '',
      maxConnectionsPerIp: str(parsed['max-connections-per-ip']) ?? '',
      highWaterMark: str(parsed['high-water-mark']) ?? '',
      shutdownTimeout: str(parsed['shutdown-timeout']) ?? '',
      heartbeat: str(parsed.heartbeat) ?? '',
      tokenPlugin: str(parsed['token-plugin']),
      tokenSource: str(parsed['token-source']),
      targetConfig: str(parsed['target-config']),
      hostToken: parsed['host-token'],
      tokenFromPath: parsed['token-from-path'],
      authPlugin: str(parsed['auth-plugin']),
      authSource: str(parsed['auth-source']),
      webAuth: parsed['web-auth'],
      record: str(parsed.record),
      runOnce: parsed['run-once'],
      timeout: str(parsed.timeout) ?? '',
      idleTimeout: str(parsed['idle-timeout']) ?? '',
      unixListen: str(parsed['unix-listen']),
      unixListenMode: str(parsed['unix-listen-mode']) ?? '',
      unixTarget: str(parsed['unix-target']),
      inetd: parsed.inetd,
      preferIpv6: parsed['prefer-ipv6'],
      textFrames: str(parsed['text-frames']) ?? '',
      traffic: parsed.traffic,
      logFile: str(parsed['log-file']),
      tokenJwtAudience: str(parsed['token-jwt-audience']),
      tokenJwtIssuer: str(parsed['token-jwt-issuer']),
      tokenJwtAllowNoExp: parsed['token-jwt-allow-no-exp'],
      tokenHashKeyFile: str(parsed['token-hash-key-file']),
      logFormat: str(parsed['log-format']) ?? '',
      workers: str(parsed.workers),
      proxyProtocolIn: parsed['proxy-protocol-in'],
      trustedProxy: (parsed['trusted-proxy'] ?? []).map(String),
      trustForwarded: parsed['trust-forwarded'],
      proxyProtocolOut: str(parsed['proxy-protocol-out']),
      maxSessionsPerToken: str(parsed['max-sessions-per-token']) ?? '0',
      rateLimit: str(parsed['rate-limit']),
      authFailureLimit: str(parsed['auth-failure-limit']),
      allowTarget: (parsed['allow-target'] ?? []).map(String),
      allowedHost: (parsed['allowed-host'] ?? []).map(String),
      revalidateInterval: str(parsed['revalidate-interval']) ?? '0',
      sslTarget: parsed['ssl-target'],
      targetCa: str(parsed['target-ca']),
      targetServername: str(parsed['target-servername']),
      targetVerify: parsed['target-verify'] === 'required' ? undefined : str(parsed['target-verify']),
      targetCert: str(parsed['target-cert']),
      targetKey: str(parsed['target-key']),
      adminListen: str(parsed['admin-listen']),
      adminTokenFile: str(parsed['admin-token-file']),
      drainTimeout: str(parsed['drain-timeout']),
      logLevel: str(parsed['log-level']),
      httpUpstream: str(parsed['http-upstream']),
      upstreamUnderscoreHeaders: parsed['upstream-underscore-headers'],
      wrapCommand: extra,
      wrapMode: str(parsed['wrap-mode']) ?? '',
      wrapTarget: str(parsed['wrap-target']),
      daemon: parsed.daemon,
      pidFile: str(parsed['pid-file']),
      syslog: str(parsed.syslog),
      legacySyslog: parsed['legacy-syslog'],
      verifyClient: str(parsed['verify-client']),
      cafile: str(parsed.cafile),
      crl: str(parsed.crl),
      verifyDepth: str(parsed['verify-depth']),
      allowPlainWithVerifyClient: parsed['allow-plain-with-verify-client'],
      clientCertAllow: str(parsed['client-cert-allow']) === undefined ? [] : [str(parsed['client-cert-allow']) ?? ''],
      tlsProfile: str(parsed['tls-profile']),
      sslVersion: str(parsed['ssl-version']),
      sslCiphers: str(parsed['ssl-ciphers']),
      tls13Ciphers: str(parsed['tls13-ciphers']),
      ecdhCurve: str(parsed['ecdh-curve']),
      dhparam: str(parsed.dhparam),
      chain: str(parsed.chain),
      hsts: str(parsed.hsts),
      sessionTickets: parsed['session-tickets'],
      sessionTicketRotate: str(parsed['session-ticket-rotate']),
      watchCerts: parsed['watch-certs'],
    },
  };
}

function certArgs(parsed: ReturnType<ReturnType<typeof buildParser>['parseSync']>): CertArgs {
  for (const name of ['generate-user-pkcs', 'cert-dir', 'p12-password-file', 'days', 'state-dir', 'web'] as const) {
    const v = parsed[name];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0)) {
      throw new UsageError(`option --${name} needs a value; run 'wsproxy --help' for its meaning`);
    }
  }
  const positionals = parsed._.map(String);
  const butterflyUser = str(parsed['generate-user-pkcs']);
  const [action, ...names] =
    butterflyUser !== undefined
      ? ['user', butterflyUser, ...positionals]
      : parsed['generate-certs']
        ? ['init', ...positionals]
        : positionals.slice(1);
  return {
    action,
    names,
    hosts: (parsed.host ?? []).map(String),
    days: str(parsed.days),
    certDir: str(parsed['cert-dir']),
    stateDir: str(parsed['state-dir']),
    web: str(parsed.web),
    p12PasswordFile: str(parsed['p12-password-file']),
    p12Compat: parsed['p12-compat'],
  };
}

/** The `--help` text. */
export function helpText(): string {
  let text = '';
  buildParser([]).showHelp((s: string) => {
    text = s;
  });
  return text;
}
