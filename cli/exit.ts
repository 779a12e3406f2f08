/**
 * Ends the process with `code` once stdout and stderr have handed everything written to them to
 * the operating system. `process.exit()` alone drops what is still queued: writes to pipes are
 * asynchronous on POSIX (https://nodejs.org/api/process.html#a-note-on-process-io), so
 * `kiln validate --json … | jq` received the first 128 KiB of a larger result: invalid JSON.
 * A write's callback runs after every earlier write on that stream, so an empty write is a flush.
 */
export function exitWhenFlushed(code: number): void {
  const streams = [process.stdout, process.stderr];
  let pending = streams.length;
  const done = () => {
    pending -= 1;
    if (pending === 0) process.exit(code);
  };
  for (const stream of streams) stream.write('', done);
}
