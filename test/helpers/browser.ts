/**
 * Browser-test helpers: a real Xvnc (TigerVNC) on a private display, loopback only, with a white root window; and
 * Debian's Chromium driven by playwright-core. The test certificate is trusted by pinning its public key
 * (`--ignore-certificate-errors-spki-list` accepts exactly that key; every other certificate is still checked).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { freePort } from './proxy.js';

/** A running Xvnc. */
export interface VncServer {
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts Xvnc with a white root window on a free display and port; resolves once it accepts connections. */
export async function startXvnc(): Promise<VncServer> {
  const port = await freePort();
  let display = 40 + Math.floor(Math.random() * 200);
  while (existsSync(`/tmp/.X11-unix/X${display}`) || existsSync(`/tmp/.X${display}-lock`)) display++;
  const proc: ChildProcess = spawn(
    'Xvnc',
    [
      `:${display}`,
      '-geometry',
      '320x240',
      '-depth',
      '24',
      '-SecurityTypes',
      'None',
      '-localhost',
      '-interface',
      '127.0.0.1',
      '-rfbport',
      String(port),
      '-wr',
      '-nolisten',
      'tcp',
    ],
    {
      stdio: 'ignore',
    },
  );
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('data', () => (s.destroy(), resolve(true))); // the RFB version greeting
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (proc.exitCode !== null) throw new Error(`Xvnc exited with ${proc.exitCode}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    stop: async () => {
      if (proc.exitCode !== null) return;
      proc.kill();
      await once(proc, 'exit');
    },
  };
}

/** base64(SHA-256(SubjectPublicKeyInfo)) of a PEM certificate: what Chromium's SPKI allow-list takes. */
export function spkiHash(pem: string): string {
  const der = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

/** Launches headless Chromium trusting exactly `certPem` (by its key) besides the system roots. */
export function launchChromium(certPem: string): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--ignore-certificate-errors-spki-list=${spkiHash(certPem)}`,
    ],
  });
}
