/**
 * Standard output for everything wsproxy prints there: `help`, `version`, `cert`, `check` and `traffic`. When
 * the reader goes away (`wsproxy cert init | head -2`), writes fail with EPIPE. That is not an error of wsproxy: the
 * rest of the output is dropped without a word, and the command finishes its work and exits with its usual status
 * (a serving proxy goes on serving). Used only by the process edge (main.ts and process/).
 */
let closed = false;
let watching = false;

/** Writes `text` to standard output, or nothing once the reader is gone. */
export function writeStdout(text: string): void {
  watchStdout();
  if (!closed) process.stdout.write(text);
}

function watchStdout(): void {
  if (watching) return;
  watching = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    // ERR_STREAM_DESTROYED: a write queued after the EPIPE that destroyed the stream.
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') closed = true;
    else throw err;
  });
}
