import type { VersionInfo } from '../build-info.js';
import { writeOut } from './messages.js';

/** `synap version`: one fact a line, on stdout. */
export function printVersion(info: VersionInfo): void {
  const b = info.build;
  const build =
    b.commit === null
      ? 'unknown (built outside a git checkout)'
      : `${b.commit.slice(0, 12)}${b.dirty ? ' with uncommitted changes' : ''}`;
  writeOut(
    [
      `synap ${info.version}`,
      `node ${info.node} (${info.platform} ${info.arch})`,
      `build ${build}${b.built_at ? `, ${b.built_at}` : ''}`,
    ].join('\n'),
  );
}

/** `synap --version`: the version number alone. */
export function printVersionNumber(info: VersionInfo): void {
  writeOut(info.version);
}
