// Shipped deployment files stay valid and in step with the CLI: the systemd units (systemd-analyze verify, and the
// sd_notify readiness they rely on, received by a real AF_UNIX datagram socket), the Kubernetes manifest (schema
// validation with kubernetes-models) and the compose file (its wsproxy arguments parse).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';

import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Secret, Service } from 'kubernetes-models/v1';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { isLoopbackHost } from '../../../src/policy/cidr.js';
import { parseCommandLine } from '../../../src/cli.js';
import { MAIN_JS, REPO_ROOT, spawnDaemon, startEchoTarget, waitFor } from '../../helpers/proxy.js';

const DEPLOY = join(REPO_ROOT, 'deploy');
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** wsproxy's arguments must be accepted by the real command-line parser (catches renamed or removed flags). */
function assertArgsParse(args: readonly string[]): void {
  const parsed = parseCommandLine(args);
  assert.equal(parsed.kind, 'run', `arguments parse: ${args.join(' ')}`);
}

/** The value of `--name=value` in `args`. */
const argValue = (args: readonly string[], name: string): string | undefined =>
  args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);

/** Writes `--config`'s contents to a temp file and points the arguments at it (the parser reads the file). */
function withConfigAt(args: readonly string[], configText: string): string[] {
  const file = join(mkdtempSync(join(tmpdir(), 'wsproxy-deploy-')), 'wsproxy.yaml');
  writeFileSync(file, configText);
  return args.map((a) => (a.startsWith('--config=') ? `--config=${file}` : a));
}

/**
 * The production properties of finding 11 (issue #12): the admin listener off loopback has a token file; targets are
 * limited; the Redis password is in a config file from a secret (matching Redis's requirepass), never an argument.
 */
function assertHardened(args: readonly string[], configText: string, redisConf: string): void {
  const admin = argValue(args, '--admin-listen') ?? '';
  const host = admin.slice(0, admin.lastIndexOf(':'));
  if (!isLoopbackHost(host))
    assert.ok(argValue(args, '--admin-token-file'), `--admin-listen=${admin} needs --admin-token-file`);
  assert.match(argValue(args, '--allow-target') ?? '', /^\d+\.\d+\.\d+\.\d+\/\d+:\d+-\d+$/);
  assert.ok(!args.some((a) => /redis:\/\/|requirepass/.test(a)), 'no Redis URL or password in the arguments');
  const password = /^token-source: redis:\/\/:([^@]+)@/m.exec(configText)?.[1];
  assert.ok(password, 'the config secret gives the token source with a password');
  assert.equal(
    /^requirepass (\S+)$/m.exec(redisConf)?.[1],
    password,
    "Redis's requirepass matches the token source's password",
  );
}

describe('systemd units', () => {
  test('systemd-analyze verify reports nothing for the socket and service units', () => {
    assert.ok(has('systemd-analyze'), 'systemd-analyze is installed (.ci/run installs the systemd package)');
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-units-'));
    copyFileSync(join(DEPLOY, 'systemd', 'wsproxy.socket'), join(dir, 'wsproxy.socket'));
    // verify insists that ExecStart's program exists: point it at this checkout's build.
    const unit = readFileSync(join(DEPLOY, 'systemd', 'wsproxy.service'), 'utf8');
    assert.match(unit, /^ExecStart=\/usr\/local\/bin\/wsproxy /m);
    writeFileSync(
      join(dir, 'wsproxy.service'),
      unit.replace('/usr/local/bin/wsproxy', `${process.execPath} ${MAIN_JS}`),
    );
    const r = spawnSync(
      'systemd-analyze',
      ['verify', '--man=no', join(dir, 'wsproxy.socket'), join(dir, 'wsproxy.service')],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'no warnings');
    // The service's wsproxy arguments are real flags.
    const exec = /^ExecStart=\/usr\/local\/bin\/wsproxy (.*)$/m.exec(unit)?.[1] ?? '';
    const config = join(dir, 'wsproxy.yaml');
    writeFileSync(config, 'target: localhost:5900\n');
    assertArgsParse(exec.replace('/etc/wsproxy/wsproxy.yaml', config).split(/\s+/));
  });

  test('sd_notify: READY=1 with our pid once listening, STOPPING=1 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsproxy-notify-'));
    const sock = join(dir, 'notify.sock');
    // A real AF_UNIX datagram receiver, as systemd has (Node's dgram module cannot open one).
    const receiver = spawn(
      'python3',
      [
        '-u',
        '-c',
        [
          'import socket, sys',
          's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
          `s.bind(${JSON.stringify(sock)})`,
          'print("bound", flush=True)',
          'while True:',
          '    data = s.recv(4096)',
          '    print(data.decode().replace("\\n", " "), flush=True)',
        ].join('\n'),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    receiver.on('error', () => undefined);
    let got = '';
    receiver.stdout.setEncoding('utf8');
    receiver.stdout.on('data', (s: string) => (got += s));
    const target = await startEchoTarget();
    try {
      await waitFor(() => got.includes('bound') && existsSync(sock), 5_000, 'receiver');
      const d = await spawnDaemon(['127.0.0.1:0', `127.0.0.1:${target.port}`], { NOTIFY_SOCKET: sock });
      await waitFor(() => got.includes('READY=1'), 10_000, 'READY=1');
      assert.match(got, new RegExp(`MAINPID=${d.proc.pid}`));
      assert.equal(await d.stop('SIGTERM'), 0);
      await waitFor(() => got.includes('STOPPING=1'), 10_000, 'STOPPING=1');
    } finally {
      receiver.kill();
      await target.close();
    }
  });
});

describe('Kubernetes manifest', () => {
  const docs = parseAllDocuments(readFileSync(join(DEPLOY, 'kubernetes', 'wsproxy.yaml'), 'utf8')).map(
    (d) => d.toJSON() as { kind: string; metadata: { name: string } },
  );

  test('every object validates against the Kubernetes schema', () => {
    const models = { Deployment, Service, Secret } as const;
    assert.deepEqual(docs.map((d) => d.kind).sort(), [
      'Deployment',
      'Deployment',
      'Secret',
      'Secret',
      'Service',
      'Service',
    ]);
    for (const doc of docs) {
      const Model = models[doc.kind as keyof typeof models];
      assert.ok(Model, `a model for ${doc.kind}`);
      assert.doesNotThrow(() => new Model(doc).validate(), `${doc.kind} ${doc.metadata.name}`);
    }
  });

  test('the wsproxy container: its arguments parse, probes hit the admin port, the proxy port is served', () => {
    type Container = {
      args: string[];
      ports: { name: string; containerPort: number }[];
      readinessProbe: { httpGet: { path: string; port: string } };
      livenessProbe: { httpGet: { path: string; port: string } };
    };
    const deployment = docs.find((d) => d.kind === 'Deployment' && d.metadata.name === 'wsproxy') as unknown as {
      spec: { template: { spec: { containers: Container[] } } };
    };
    const c = deployment.spec.template.spec.containers[0]!;
    assertArgsParse(withConfigAt(c.args, secretData()['wsproxy.yaml'] ?? ''));
    const admin = c.args
      .find((a) => a.startsWith('--admin-listen='))
      ?.split(':')
      .pop();
    assert.equal(Number(admin), c.ports.find((p) => p.name === 'admin')?.containerPort);
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    assert.equal(c.readinessProbe.httpGet.port, 'admin');
    assert.equal(c.args.at(-1), String(c.ports.find((p) => p.name === 'proxy')?.containerPort));
  });

  type Mount = { name: string; mountPath: string };
  type Volume = { name: string; secret?: { secretName: string; items: { key: string; path: string }[] } };
  type Pod = {
    spec: { template: { spec: { containers: { args: string[]; volumeMounts: Mount[] }[]; volumes: Volume[] } } };
  };
  const secretData = (): Record<string, string> =>
    (
      docs.find((d) => d.kind === 'Secret' && d.metadata.name === 'wsproxy-secrets') as unknown as {
        stringData: Record<string, string>;
      }
    ).stringData;
  /** Where a container finds `key` of the Secret `wsproxy-secrets` (mount path + item path). */
  const secretPath = (pod: Pod, key: string): string | undefined => {
    const { containers, volumes } = pod.spec.template.spec;
    for (const v of volumes) {
      const item = v.secret?.secretName === 'wsproxy-secrets' ? v.secret.items.find((i) => i.key === key) : undefined;
      const mount = containers[0]?.volumeMounts.find((m) => m.name === v.name);
      if (item && mount) return `${mount.mountPath}/${item.path}`;
    }
    return undefined;
  };

  test('admin token, Redis password and config come from a Secret; --allow-target is set', () => {
    const pod = (name: string): Pod =>
      docs.find((d) => d.kind === 'Deployment' && d.metadata.name === name) as unknown as Pod;
    const wsproxy = pod('wsproxy');
    const args = wsproxy.spec.template.spec.containers[0]!.args;
    const data = secretData();
    assertHardened(args, data['wsproxy.yaml'] ?? '', data['redis.conf'] ?? '');
    assert.equal(argValue(args, '--admin-token-file'), secretPath(wsproxy, 'admin-token'));
    assert.equal(argValue(args, '--config'), secretPath(wsproxy, 'wsproxy.yaml'));
    const redis = pod('wsproxy-redis');
    assert.equal(redis.spec.template.spec.containers[0]!.args[0], secretPath(redis, 'redis.conf'));
  });
});

describe('compose file', () => {
  test('services are wired: wsproxy arguments parse, Prometheus scrapes the admin port, Redis is the token source', () => {
    type Service = { command?: string[]; secrets?: string[] };
    const compose = parseYaml(readFileSync(join(DEPLOY, 'compose', 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, Service>;
      secrets: Record<string, { file: string }>;
    };
    assert.deepEqual(Object.keys(compose.services).sort(), ['prometheus', 'redis', 'wsproxy']);
    const args = compose.services['wsproxy']?.command ?? [];
    // What the header comment tells the user to write into secrets/wsproxy.yaml and secrets/redis.conf.
    const header = readFileSync(join(DEPLOY, 'compose', 'docker-compose.yml'), 'utf8');
    const configText = 'token-source: redis://:PW@redis:6379/0?namespace=wsproxy\n';
    assert.ok(
      header.includes(
        'printf \'token-source: redis://:%s@redis:6379/0?namespace=wsproxy\\n\' "$pw" > secrets/wsproxy.yaml',
      ),
    );
    assert.ok(header.includes('printf \'requirepass %s\\n\' "$pw" > secrets/redis.conf'));
    assertArgsParse(withConfigAt(args, configText));
    assertHardened(args, configText, 'requirepass PW\n');
    // Each secret a service reads is declared from a file, and the paths in the arguments are where compose mounts it.
    const mounted = (service: string, name: string): string => {
      assert.ok(compose.services[service]?.secrets?.includes(name), `${service} gets the secret ${name}`);
      assert.ok(compose.secrets[name]?.file.startsWith('./secrets/'), `secret ${name} is a file under ./secrets`);
      return `/run/secrets/${name}`;
    };
    assert.equal(argValue(args, '--config'), mounted('wsproxy', 'wsproxy.yaml'));
    assert.equal(argValue(args, '--admin-token-file'), mounted('wsproxy', 'admin-token'));
    assert.equal(compose.services['redis']?.command?.[1], mounted('redis', 'redis.conf'));
    type Scrape = { static_configs: { targets: string[] }[]; authorization?: { credentials_file?: string } };
    const prom = parseYaml(readFileSync(join(DEPLOY, 'compose', 'prometheus.yml'), 'utf8')) as {
      scrape_configs: Scrape[];
    };
    const admin = args
      .find((a) => a.startsWith('--admin-listen='))
      ?.split(':')
      .pop();
    assert.deepEqual(prom.scrape_configs[0]?.static_configs[0]?.targets, [`wsproxy:${admin}`]);
    assert.equal(prom.scrape_configs[0]?.authorization?.credentials_file, mounted('prometheus', 'admin-token'));
  });
});
