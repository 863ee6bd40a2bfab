// Preloaded with `node --import` when /usr/bin/time is missing: writes the process's own
// resource usage (CPU µs, peak RSS KB) to $BENCH_RUSAGE_FILE when it exits.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RUSAGE_FILE;
if (file) {
  process.on('exit', () => {
    writeFileSync(file, `${JSON.stringify(process.resourceUsage())}\n`);
  });
}
