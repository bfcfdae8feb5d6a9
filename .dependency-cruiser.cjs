/**
 * Import direction rules, as listed in docs/architecture.md §3 (keep the two in step). `npm run lint` fails on a wrong
 * arrow.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'nothing-imports-the-cli',
      comment: 'Only main.ts may import cli.ts or main.ts (the process edge).',
      severity: 'error',
      from: { pathNot: '^src/main\\.ts$' },
      to: { path: '^src/(main|cli)\\.ts$' },
    },
    {
      name: 'targets-and-auth-are-independent',
      severity: 'error',
      from: { path: '^src/targets/' },
      to: { path: '^src/auth/' },
    },
    {
      name: 'auth-and-targets-are-independent',
      severity: 'error',
      from: { path: '^src/auth/' },
      to: { path: '^src/targets/' },
    },
    {
      name: 'listener-is-transport-only',
      comment: 'listener/ gets its TLS and HTTP handlers passed in by server.ts.',
      severity: 'error',
      from: { path: '^src/listener/' },
      to: { path: '^src/(tls|http|websocket|relay|targets|auth)/' },
    },
    {
      name: 'relay-imports-nothing-above-it',
      comment: 'relay/ sees two duplexes and a tap; errors, log and the net/ leaf (address formatting) only.',
      severity: 'error',
      from: { path: '^src/relay/' },
      to: { path: '^src/', pathNot: '^src/(relay/|net/|errors\\.ts$|log\\.ts$)' },
    },
    {
      name: 'events-is-a-leaf',
      comment: 'events.ts (typed events on diagnostics_channel) is published from every stage: errors.ts types only.',
      severity: 'error',
      from: { path: '^src/events\\.ts$' },
      to: { path: '^src/', pathNot: '^src/errors\\.ts$' },
    },
    {
      name: 'net-is-a-leaf',
      comment:
        'net/ (addresses, PROXY protocol bytes) is pure and used from every layer, relay/ included: errors and log only.',
      severity: 'error',
      from: { path: '^src/net/' },
      to: { path: '^src/', pathNot: '^src/(net/|errors\\.ts$|log\\.ts$)' },
    },
    {
      name: 'errors-and-log-are-leaves',
      comment:
        'errors.ts (every error class, the reason catalogue) imports only the option table (to name options); log.ts only errors.ts and that table.',
      severity: 'error',
      from: { path: '^src/(errors|log)\\.ts$' },
      to: { path: '^src/', pathNot: '^src/(errors\\.ts$|config/options/)' },
    },
    {
      name: 'config-types-is-a-leaf',
      comment:
        'config/types.ts holds the types plugins see; config/ imports the plugin lists, so the types import only the pure policy value types.',
      severity: 'error',
      from: { path: '^src/config/types\\.ts$' },
      to: { path: '^src/', pathNot: '^src/policy/(cidr|rate-limit)\\.ts$' },
    },
    {
      name: 'config-io-only-in-probes',
      comment:
        'The resolvers and rules are pure: disk, OpenSSL and OS questions go through config/probes.ts (injected).',
      severity: 'error',
      from: { path: '^src/config/', pathNot: '^src/config/probes\\.ts$' },
      to: { dependencyTypes: ['core'], pathNot: '^(node:)?path$' },
    },
    {
      name: 'config-stays-below-the-stages',
      comment:
        'config/ turns arguments into Config: it sees errors, net/, the policy value parsers and the plugin lists.',
      severity: 'error',
      from: { path: '^src/config/' },
      to: {
        path: '^src/',
        pathNot:
          '^src/(config/|net/|errors\\.ts$|plugin-loader\\.ts$|policy/(cidr|rate-limit)\\.ts$|targets/registry\\.ts$|auth/registry\\.ts$)',
      },
    },
    {
      name: 'option-table-is-a-leaf',
      comment:
        'config/options/ (the option table: every option, once) feeds the CLI, config/, reload.ts, gen-docs and every message that names an option: it imports nothing else from src/.',
      severity: 'error',
      from: { path: '^src/config/options/' },
      to: { path: '^src/', pathNot: '^src/config/options/' },
    },
    {
      name: 'plugin-loader-is-a-leaf',
      comment:
        'Shared by targets/ and auth/ (which may not import each other), so it imports nothing above log.ts and errors.ts.',
      severity: 'error',
      from: { path: '^src/plugin-loader\\.ts$' },
      to: { path: '^src/', pathNot: '^src/(log|errors)\\.ts$' },
    },
    {
      name: 'only-main-touches-yargs',
      severity: 'error',
      from: { pathNot: '^src/(main|cli)\\.ts$' },
      to: { path: 'node_modules/yargs' },
    },
    {
      name: 'policy-stays-below-the-stages',
      comment: 'policy/ decides (addresses, limits, revocation); the stages that act on it import it, not the reverse.',
      severity: 'error',
      from: { path: '^src/policy/' },
      to: { path: '^src/(main|cli)\\.ts$|^src/(server|http|listener|tls|auth)/' },
    },
    {
      name: 'admin-is-wired-by-the-server',
      comment: 'admin/ (metrics, admin listener) is created by the server (src/server/) only.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(server/|admin/)' },
      to: { path: '^src/admin/' },
    },
    {
      name: 'admin-reads-types-only',
      comment:
        'admin/ sees the proxy through AdminDeps/MetricsSources and events; it imports config, errors, events, log, plugin/relay types, the listener helper for its unix socket and the net/ leaf.',
      severity: 'error',
      from: { path: '^src/admin/' },
      to: {
        path: '^src/',
        pathNot:
          '^src/(admin/|net/|errors\\.ts$|events\\.ts$|log\\.ts$|config/types\\.ts$|config/options/|relay/relay\\.ts$|targets/types\\.ts$|listener/listen\\.ts$)',
      },
    },
    {
      name: 'stages-do-not-import-the-server',
      comment:
        'src/server/ wires the stages and hands them a runtime snapshot; no stage reaches back up into it (main.ts, process/ and the library entry may).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(server/|process/|main\\.ts$|index\\.ts$)' },
      to: { path: '^src/server/' },
    },
    {
      name: 'prom-client-stays-in-admin',
      comment: 'The relay and the pipeline report through hooks; only admin/ knows Prometheus.',
      severity: 'error',
      from: { pathNot: '^src/admin/' },
      to: { path: 'node_modules/prom-client' },
    },
    {
      name: 'only-main-runs-processes',
      comment:
        'process/ (serving sequence, signals, lifetime, log output, workers, daemon, wrap) acts on process-wide state: main.ts only (docs/architecture.md §3).',
      severity: 'error',
      from: { pathNot: '^src/(main\\.ts$|process/)' },
      to: { path: '^src/process/' },
    },
    {
      name: 'process-runs-the-server-not-its-stages',
      comment:
        'process/ starts the server through its entry (createServer, prepareSharedFiles) and sees config, reload results, the start-up warnings, log, errors and the net/ leaf; never the stages, never the cli (its argv and parse come as arguments from main.ts).',
      severity: 'error',
      from: { path: '^src/process/' },
      to: {
        path: '^src/',
        pathNot:
          '^src/(process/|net/|server/index\\.ts$|config/|reload\\.ts$|startup-warnings\\.ts$|log\\.ts$|errors\\.ts$)',
      },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
