import { readFile } from 'node:fs/promises';
import { text } from 'node:stream/consumers';
import { describeErrno, UsageError } from '../errors.js';

/**
 * The input files named in a list (`--files-from list.txt`, or `-` for stdin): one path a
 * line, relative to the current directory as tar's and rsync's lists are; blank lines and
 * lines starting with `#` are left out. The files are not opened here: a shard that splits
 * whole files needs only its own to be there.
 */
export async function readFilesFrom(list: string): Promise<string[]> {
  const name = list === '-' ? 'the list on stdin' : list;
  const read = list === '-' ? text(process.stdin) : readFile(list, 'utf8');
  const body = await read.catch((err: unknown) => {
    throw new UsageError(`--files-from ${list}: cannot read the list: ${describeErrno(err)}`);
  });
  const files: string[] = [];
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const path = lines[i]!.replace(/\r$/, '');
    if (path.trim() === '' || path.startsWith('#')) continue;
    if (path === '-') {
      throw new UsageError(`${name}, line ${i + 1}: "-" (stdin) cannot be listed; name files`);
    }
    files.push(path);
  }
  if (files.length === 0) throw new UsageError(`${name} names no input files`);
  return files;
}
