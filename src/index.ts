import { answerVersionFlag } from './commands/version.js';
import { describeErrno } from './errors.js';
import { errorLine } from './output/messages.js';

// stderr carries diagnostics only: a reader that went away (`synap ingest f 2>&1 | head -1`)
// or a full disk under a log loses them, and the work goes on; its end (exit code, state,
// lock) is as it would have been.
process.stderr.on('error', () => {});

// stdout carries data. A reader that goes away (`synap export | head -1`) is noticed by the
// writer, which stops and reports the output incomplete; any other error (a full disk under
// `> file`) is reported by whatever was writing. An error nothing reported makes a run that
// would have exited 0 exit 1, with one line saying why.
let stdoutError: NodeJS.ErrnoException | undefined;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') stdoutError ??= err;
});
// This file is the one place the process's exit code is set: the command's (an error became
// its code in the runner's fail()), raised from 0 to 1 by an unreported stdout error, which
// can still come while the last writes flush at exit.
process.on('exit', (code) => {
  if (stdoutError === undefined || code !== 0) return;
  errorLine(`cannot write to stdout: ${describeErrno(stdoutError)}`);
  process.exitCode = 1;
});

// `synap --version` is answered without building the program (see answerVersionFlag).
if (!(await answerVersionFlag(process.argv.slice(2)))) {
  const { main } = await import('./cli.js');
  process.exitCode = await main(process.argv);
}
