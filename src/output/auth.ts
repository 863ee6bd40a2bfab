import type { KeySource } from '../client/error-hints.js';
import { info, writeOut } from './messages.js';
import { renderKeyValue } from './table.js';
import type { View } from './view.js';

/** What `auth login` and `auth status` report (also their --json result). */
export interface AuthReport {
  profile: string;
  base_url: string;
  /** Masked: `synap_…1a2b`. */
  key: string;
  key_source: KeySource;
  instance_id: string;
  client_id: string;
  local: boolean;
}

const SOURCE_LABEL: Record<KeySource, string> = {
  env: 'SYNAP_API_KEY',
  profile: 'stored in profile',
  local: 'local emulator',
  option: 'given',
  none: 'none',
};

export function printAuthReport(report: AuthReport, view: View): void {
  writeOut(
    renderKeyValue(
      [
        ['profile', report.profile],
        ['base URL', report.local ? `${report.base_url} (local emulator)` : report.base_url],
        ['key', `${report.key} (${SOURCE_LABEL[report.key_source]})`],
        ['instance', report.instance_id],
        ['client', report.client_id],
      ],
      { color: view.color },
    ),
  );
}

export function printLoggedIn(report: AuthReport, view: View): void {
  info(`Logged in: key verified and stored in profile "${report.profile}".`);
  printAuthReport(report, view);
}

export function printLoggedOut(result: { profile: string; removed: boolean }): void {
  info(
    result.removed
      ? `Removed the stored key of profile "${result.profile}".`
      : `Profile "${result.profile}" had no stored key.`,
  );
}
