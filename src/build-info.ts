import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** What `synap version` reports: this build, and the runtime it runs on. */
export interface VersionInfo {
  version: string;
  node: string;
  platform: NodeJS.Platform;
  arch: string;
  /** Written by `npm run build` (scripts/write-build-info.js); null fields when unknown. */
  build: { commit: string | null; dirty: boolean | null; built_at: string | null };
}

const require = createRequire(import.meta.url);

function readBuild(): VersionInfo['build'] {
  try {
    const raw = JSON.parse(
      readFileSync(new URL('./build-info.json', import.meta.url), 'utf8'),
    ) as Partial<VersionInfo['build']>;
    return {
      commit: typeof raw.commit === 'string' ? raw.commit : null,
      dirty: typeof raw.dirty === 'boolean' ? raw.dirty : null,
      built_at: typeof raw.built_at === 'string' ? raw.built_at : null,
    };
  } catch {
    // Built without the build step's file (e.g. a bare tsc): the build is unknown, not an error.
    return { commit: null, dirty: null, built_at: null };
  }
}

export function versionInfo(): VersionInfo {
  return {
    version: (require('../package.json') as { version: string }).version,
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    build: readBuild(),
  };
}
