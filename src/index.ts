import { answerVersionFlag } from './commands/version.js';

// A reader that goes away (`synap export | head -1`, `synap --help | head`) is a normal end of
// output, not a crash: stop quietly instead of dying on an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// `synap --version` is answered without building the program (see answerVersionFlag).
if (!(await answerVersionFlag(process.argv.slice(2)))) {
  const { main } = await import('./cli.js');
  await main(process.argv);
}
