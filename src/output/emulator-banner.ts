/**
 * What `synap emulator` prints. The base URL and the API key are the command's output (the one
 * place a key is printed on purpose: it is a local, throwaway key the user needs to copy).
 */
export interface EmulatorBannerInfo {
  url: string;
  apiKey: string;
  db: string;
  tier: string;
  rpm: number | null;
  burst: number | null;
  processingDelayMs: number;
  /** Bound beyond loopback (e.g. --host 0.0.0.0). */
  exposed: boolean;
  /** When exposed: the URLs other machines reach it on. */
  networkUrls: string[];
}

/** Start banner on stdout: human lines, or one JSON object with --json. */
export function printEmulatorBanner(info: EmulatorBannerInfo, opts: { json: boolean }): void {
  if (opts.json) {
    process.stdout.write(
      JSON.stringify({
        status: 'ok',
        result: {
          url: info.url,
          api_key: info.apiKey,
          db: info.db,
          tier: info.tier,
          rpm: info.rpm,
          burst: info.burst,
          processing_delay_ms: info.processingDelayMs,
          ...(info.exposed ? { network_urls: info.networkUrls } : {}),
        },
      }) + '\n',
    );
    if (info.exposed) process.stderr.write(exposedWarning(info) + '\n');
    return;
  }
  const limits =
    info.rpm === null ? 'unlimited' : `${info.tier}: ${info.rpm}/min, burst ${info.burst}`;
  process.stdout.write(
    [
      `Synap emulator (local development tool) listening on ${info.url}`,
      `  base URL:   ${info.url}`,
      ...info.networkUrls.map((u) => `  network:    ${u}`),
      `  API key:    ${info.apiKey}`,
      `  database:   ${info.db}`,
      `  rate limit: ${limits}`,
      '',
      'Try it:',
      `  curl -H "Authorization: Bearer ${info.apiKey}" ${info.url}/api/v1/auth/whoami`,
      `  SYNAP_BASE_URL=${info.url} SYNAP_API_KEY=${info.apiKey} synap ingest samples/chat-transcripts.jsonl`,
      '',
    ].join('\n'),
  );
  if (info.exposed) process.stderr.write(exposedWarning(info) + '\n');
  process.stderr.write('Press Ctrl-C to stop.\n');
}

function exposedWarning(info: EmulatorBannerInfo): string {
  const where =
    info.networkUrls.length > 0 ? info.networkUrls.join(', ') : 'no network address found yet';
  return (
    `warning: the emulator is exposed beyond this machine (${where}): anyone who can reach it ` +
    'and has the key can read and write its data. Bind to 127.0.0.1 unless you need this.'
  );
}

/** Printed on stderr after a clean shutdown. */
export function printEmulatorStopped(opts: { quiet: boolean }): void {
  if (!opts.quiet) process.stderr.write('Synap emulator stopped.\n');
}
