/**
 * TLS upkeep for one server: the certificate in use (loaded at start, retried while missing, reloaded on SIGHUP or a
 * file change, replaced by a configuration reload), session ticket rotation and the file watch. A certificate that
 * cannot be loaded keeps the previous one (or TLS off); the rest of the server asks this object what is in use.
 */
import { join } from 'node:path';
import type { Server as HttpsServer } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { Config, TlsConfig } from '../config/types.js';
import { CertificateError, ReloadError, firstLine } from '../errors.js';
import type { Logger } from '../log.js';
import { findOwnCa, type OwnCa } from '../certs/own-ca.js';
import { ensureSelfSignedPem } from '../certs/self-signed.js';
import { loadCertificate, type LoadedCertificate } from './context.js';
import { rotateTicketKeys, startTicketRotation, watchFiles } from './reload.js';
import { flag } from '../config/options/index.js';

// How often a TLS client may trigger another attempt to load a missing certificate.
const CERT_RETRY_MS = 5_000;

/** What loading the certificate reads: the TLS settings, the file actually used and the profile's options. */
export interface TlsInputs {
  readonly tls: TlsConfig;
  readonly certFile: string;
  readonly profile: SecureContextOptions;
}

/** A certificate loaded ahead of a reload's commit. */
export interface PreparedCertificate {
  /** Undefined when TLS was off and stays off (no certificate asked for, none there). */
  readonly cert: LoadedCertificate | undefined;
  readonly ownCa: OwnCa | undefined;
}

/** The certificate file a server loads: the generated one when no `cert` was given and there is no self.pem. */
export function certificateFile(config: Config): string {
  return config.tls.generateIfMissing && !config.tls.certGiven
    ? join(config.tls.stateDir, 'self-signed.pem')
    : config.tls.certFile;
}

/**
 * Makes the files every process serving `config` must share, once, before any of them starts: the self-signed
 * certificate generated when no `cert` was given and there is no `self.pem`. With `workers` the primary calls this
 * before forking, so that all workers load the same certificate instead of racing to make one each.
 */
export async function prepareSharedFiles(config: Config): Promise<{ created: boolean; file: string }> {
  const file = certificateFile(config);
  if (!config.tls.generateIfMissing) return { created: false, file };
  const made = await ensureSelfSignedPem(file);
  return { created: made.created, file };
}

/** The files whose change reloads TLS. */
function watchedFiles(config: Config, certFile: string): string[] {
  const options = config.tls.options;
  const clientCert = config.tls.clientCert;
  return [
    certFile,
    config.tls.keyFile,
    options?.chainFile,
    clientCert?.caFile,
    clientCert?.crlFile,
    options?.dhparamFile,
  ].filter((f) => f !== undefined);
}

/** The certificate state of one server and the timers and watches that keep it fresh. */
export class TlsUpkeep {
  #cert: LoadedCertificate | undefined;
  #problem: CertificateError | undefined;
  #ownCa: OwnCa | undefined;
  #lastAttempt = 0;
  #stops: (() => void)[] = [];

  constructor(
    private readonly secure: HttpsServer,
    private readonly log: Logger,
  ) {}

  /** The certificate in use, if one is loaded. */
  certificate(): LoadedCertificate | undefined {
    return this.#cert;
  }

  /** Why the certificate could not be loaded, while it cannot. */
  problem(): CertificateError | undefined {
    return this.#problem;
  }

  /** wsproxy's own CA, when it issued the certificate in use. */
  ownCa(): OwnCa | undefined {
    return this.#ownCa;
  }

  /** Loads the certificate into the TLS server; a CertificateError is kept as the problem, anything else thrown. */
  async load(inputs: TlsInputs): Promise<void> {
    this.#lastAttempt = Date.now();
    try {
      const loaded = await loadCertificate({ ...inputs.tls, certFile: inputs.certFile });
      this.secure.setSecureContext({ ...inputs.profile, ...loaded.options });
      this.#cert = loaded;
      this.#problem = undefined;
      this.#ownCa = await findOwnCa(inputs.certFile);
    } catch (err) {
      if (!(err instanceof CertificateError)) throw err;
      this.#problem = err;
    }
  }

  /** A TLS client arrived while no certificate is loaded: try again, at most every few seconds. */
  async retryIfDue(inputs: TlsInputs): Promise<void> {
    if (!this.#cert && Date.now() - this.#lastAttempt >= CERT_RETRY_MS) await this.load(inputs);
  }

  /** Rebuilds the TLS context from the files; false (and the old context kept) when they cannot be used. */
  async reload(inputs: TlsInputs, why = 'reload'): Promise<boolean> {
    const before = this.#cert;
    await this.load(inputs);
    if (this.#problem !== undefined) {
      this.log.error(
        before ? 'TLS reload failed; the previous certificate stays in use' : 'TLS reload failed; TLS stays off',
        { why, problem: this.#problem.message },
      );
      return false;
    }
    // Tickets issued under the old context would resume sessions verified against the old CA/CRL: start afresh.
    rotateTicketKeys(this.secure);
    this.log.info('TLS reloaded', {
      why,
      sha256: this.#cert?.fingerprint256 ?? '',
      changed: before?.fingerprint256 !== this.#cert?.fingerprint256 ? 'yes' : 'no',
    });
    return true;
  }

  /**
   * Loads the certificate a reload to `next` would use, without putting it in. TLS that was off (no `cert`, no
   * self.pem, nothing generated) may stay off; a certificate in use or asked for must load, or the reload is refused.
   */
  async prepare(next: Config, certFile: string): Promise<PreparedCertificate> {
    try {
      await prepareSharedFiles(next);
      const cert = await loadCertificate({ ...next.tls, certFile });
      return { cert, ownCa: await findOwnCa(certFile) };
    } catch (err) {
      if (this.#cert !== undefined || next.tls.certGiven || !(err instanceof CertificateError))
        throw new ReloadError('CERTIFICATE_UNUSABLE', firstLine(err), { flag: flag('cert') });
      return { cert: undefined, ownCa: undefined };
    }
  }

  /** Puts a prepared certificate in use (a reload's commit). */
  install(prepared: PreparedCertificate, profile: SecureContextOptions): void {
    if (!prepared.cert) return;
    this.secure.setSecureContext({ ...profile, ...prepared.cert.options });
    this.#cert = prepared.cert;
    this.#problem = undefined;
    this.#ownCa = prepared.ownCa;
    // Tickets issued under the old context would resume sessions verified against the old CA/CRL: start afresh.
    rotateTicketKeys(this.secure);
  }

  /** (Re)starts ticket key rotation and the certificate file watch for `config`; stops the previous ones. */
  start(config: Config, inputs: TlsInputs): void {
    this.stop();
    const options = config.tls.options;
    if (options?.sessionTickets !== false)
      this.#stops.push(startTicketRotation(this.secure, options?.ticketRotateMs ?? 86_400_000));
    if (options?.watchFiles === false) return;
    const onChange = (file: string): void => {
      this.reload(inputs, `file changed: ${file}`).catch((err: unknown) =>
        this.log.error('TLS reload failed', { error: (err as Error).message }),
      );
    };
    this.#stops.push(watchFiles(watchedFiles(config, inputs.certFile), onChange, this.log));
  }

  /** Stops the rotation timer and the file watch. */
  stop(): void {
    for (const stop of this.#stops) stop();
    this.#stops = [];
  }
}
