/** Reads a secret from the terminal (the .p12 password of `wsproxy cert user`). */
import { ConfigError } from '../errors.js';
import { flag } from '../config/options/index.js';

/** Reads one line from the terminal without echoing it; Ctrl-C or Ctrl-D cancels. */
export function askSecret(prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const done = (err?: Error): void => {
      stdin.off('data', stdinOnData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const stdinOnData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004')
          return done(new ConfigError(flag('p12PasswordFile'), 'password entry cancelled'));
        if (ch === '\u007f' || ch === '\b') text = [...text].slice(0, -1).join('');
        else text += ch;
      }
    };
    stdin.on('data', stdinOnData);
  });
}
