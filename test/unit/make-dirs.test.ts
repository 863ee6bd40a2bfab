import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDirsSync } from '../../src/make-dirs.js';

const root = mkdtempSync(join(tmpdir(), 'synap-make-dirs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// /proc refuses new entries with ENOENT although the parent exists: Node's recursive mkdir
// retries that forever. Linux only.
const PROC = existsSync('/proc/self') ? '/proc/self/synap-test/deeper' : undefined;

const name = 'makeDirsSync';
const make = async (dir: string, mode?: number) => makeDirsSync(dir, mode);

describe('makeDirsSync', () => {
  it('makes every missing level with the mode; an existing directory is left as is', async () => {
    const dir = join(root, name, 'a', 'b', 'c');
    await make(dir, 0o700);
    for (const d of [join(root, name), join(root, name, 'a'), dir]) {
      expect(statSync(d).isDirectory()).toBe(true);
      expect(statSync(d).mode & 0o777).toBe(0o700);
    }
    await make(dir, 0o700);
    await make(root);
  });

  it('a file on the path: ENOTDIR naming where', async () => {
    const file = join(root, `${name}-file`);
    writeFileSync(file, '');
    await expect(make(join(file, 'x', 'y'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(make(file)).rejects.toMatchObject({ code: 'ENOTDIR', path: file });
  });

  it.runIf(PROC)('a parent that refuses entries (/proc): ENOENT, at once', async () => {
    await expect(make(PROC!)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
