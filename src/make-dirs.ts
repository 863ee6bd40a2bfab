import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

// `mkdir -p`, one level at a time. Node's own `{ recursive: true }` never returns when a parent
// exists but refuses new entries with ENOENT (anywhere under /proc or /sys): it makes the parent
// again and retries, forever, and the synchronous form blocks even Ctrl-C. Here each level is
// tried at most twice, and the error of the level that cannot be made is raised.

/** Makes `dir` and any missing parents (each with `mode`); an existing directory is left as is. */
export function makeDirsSync(dir: string, mode?: number): void {
  try {
    mkdirSync(dir, { mode });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if (isDirSync(dir)) return;
      throw notADirectory(dir);
    }
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw err;
    makeDirsSync(parent, mode);
    try {
      mkdirSync(dir, { mode });
    } catch (again) {
      // Made meanwhile by another process: as good as made here.
      if ((again as NodeJS.ErrnoException).code === 'EEXIST' && isDirSync(dir)) return;
      throw again;
    }
  }
}

/** A file where a directory should be: what `mkdir -p` reports for it. */
function notADirectory(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), {
    code: 'ENOTDIR',
    path,
    syscall: 'mkdir',
  });
}

function isDirSync(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
