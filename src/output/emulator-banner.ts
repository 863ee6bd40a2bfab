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
        },
      }) + '\n',
    );
    return;
  }
  const limits =
    info.rpm === null ? 'unlimited' : `${info.tier}: ${info.rpm}/min, burst ${info.burst}`;
  process.stdout.write(
    [
      `Synap emulator (local development tool) listening on ${info.url}`,
      `  base URL:   ${info.url}`,
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
  process.stderr.write('Press Ctrl-C to stop.\n');
}

/** Printed on stderr after a clean shutdown. */
export function printEmulatorStopped(opts: { quiet: boolean }): void {
  if (!opts.quiet) process.stderr.write('Synap emulator stopped.\n');
}
