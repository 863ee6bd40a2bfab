import type { View } from './view.js';

/**
 * What `synap emulator` prints. The base URL and the API key are the command's output (the one
 * place a key is printed on purpose: it is a local, throwaway key the user needs to copy).
 */
export interface EmulatorBannerInfo {
  url: string;
  api_key: string;
  db: string;
  tier: string;
  rpm: number | null;
  burst: number | null;
  processing_delay_ms: number;
  /** Bound beyond loopback (e.g. --host 0.0.0.0): the URLs other machines reach it on. */
  network_urls?: string[];
}

/** Start banner: the URL and key on stdout, how to stop on stderr. */
export function printEmulatorBanner(info: EmulatorBannerInfo): void {
  const limits =
    info.rpm === null ? 'unlimited' : `${info.tier}: ${info.rpm}/min, burst ${info.burst}`;
  process.stdout.write(
    [
      `Synap emulator (local development tool) listening on ${info.url}`,
      `  base URL:   ${info.url}`,
      ...(info.network_urls ?? []).map((u) => `  network:    ${u}`),
      `  API key:    ${info.api_key}`,
      `  database:   ${info.db}`,
      `  rate limit: ${limits}`,
      '',
      'Log in to it (paste the API key above when asked), then use the profile:',
      `  synap --profile emulator auth login --base-url ${info.url}`,
      '  synap --profile emulator ingest samples/chat-transcripts.jsonl',
      'Or, for one command:',
      `  SYNAP_BASE_URL=${info.url} SYNAP_API_KEY=${info.api_key} synap ingest samples/chat-transcripts.jsonl`,
      `  curl -H "Authorization: Bearer ${info.api_key}" ${info.url}/api/v1/auth/whoami`,
      '',
    ].join('\n'),
  );
  process.stderr.write('Press Ctrl-C to stop.\n');
}

/** Said (on stderr, even with --json) when the emulator listens beyond this machine. */
export function exposedWarning(info: Pick<EmulatorBannerInfo, 'network_urls'>): string {
  const urls = info.network_urls ?? [];
  const where = urls.length > 0 ? urls.join(', ') : 'no network address found yet';
  return (
    `the emulator is exposed beyond this machine (${where}): anyone who can reach it ` +
    'and has the key can read and write its data. Bind to 127.0.0.1 unless you need this.'
  );
}

/** Printed on stderr after a clean shutdown. */
export function printEmulatorStopped(view: View): void {
  if (!view.quiet) process.stderr.write('Synap emulator stopped.\n');
}

/** Said (on stderr) when another emulator already serves the same database. */
export function sharedDatabaseWarning(db: string, other: { url: string; pid: number }): string {
  return (
    `another emulator (${other.url}, pid ${other.pid}) is using the database ${db}: ` +
    'this one shares its API key and data. For a store of its own, start it with ' +
    '--db <another file> (or --db :memory:).'
  );
}
