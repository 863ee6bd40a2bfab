// Part of `npm run build`: records which commit dist/ was built from, and when, in
// dist/build-info.json for `synap version`. Outside a git checkout the commit is null.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';

function git(args) {
  try {
    return execFileSync('git', args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

const commit = git(['rev-parse', 'HEAD']);
const status = commit === null ? null : git(['status', '--porcelain', '--untracked-files=no']);
const info = {
  commit,
  dirty: status === null ? null : status !== '',
  built_at: new Date().toISOString(),
};
const dist = new URL('../dist/', import.meta.url);
mkdirSync(dist, { recursive: true });
writeFileSync(new URL('build-info.json', dist), `${JSON.stringify(info)}\n`);
