import { run } from './cli.js';
import { exitCodeAfterSignals } from './signals.js';

// A reader that goes away (`synap export | head -1`, `synap --help | head`) is a normal end of
// output, not a crash: stop quietly instead of dying on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

process.exitCode = exitCodeAfterSignals(await run(process.argv));
