import { info, writeOut } from './messages.js';
import { renderTable } from './table.js';
import type { View } from './view.js';

/** What `config list` reports: each profile's settings (keys masked) and the config file. */
export interface ProfileListing {
  profiles: Record<string, Record<string, unknown>>;
  path: string;
}

export function printProfiles(listing: ProfileListing, view: View): void {
  const rows: string[][] = [];
  for (const [name, settings] of Object.entries(listing.profiles)) {
    const entries = Object.entries(settings);
    if (entries.length === 0) rows.push([name, '(empty)', '']);
    for (const [k, v] of entries) rows.push([name, k, String(v)]);
  }
  if (rows.length === 0) info('No profiles stored yet.');
  else writeOut(renderTable(['profile', 'setting', 'value'], rows, { color: view.color }));
  info(`config file: ${listing.path}`, { quiet: view.quiet });
}

/** `config get`: the bare value on stdout (nothing when unset), for `$(synap config get …)`. */
export function printSetting(s: { value: unknown }): void {
  if (s.value !== null && s.value !== undefined) writeOut(String(s.value));
}

/** `config set` / `unset`: what changed, on stderr. */
export function printSettingChange(c: {
  profile: string;
  key: string;
  value?: unknown;
  removed?: boolean;
}): void {
  if (c.removed === undefined) info(`${c.profile}: ${c.key} = ${String(c.value)}`);
  else info(c.removed ? `${c.profile}: ${c.key} unset` : `${c.key} was not set`);
}

/** Profile names, one a line (read by the shell completion scripts). */
export function printNames(names: string[]): void {
  if (names.length > 0) writeOut(names.join('\n'));
}
