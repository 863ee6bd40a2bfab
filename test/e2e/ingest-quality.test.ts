import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { qualitySandbox } from '../helpers/fixtures/ingest-quality.js';
import { runCli, runShell } from '../helpers/cli.js';

// See before you spend: --show N prints the first N documents whole, for every format; the
// quality checks warn before sending (and in --json), and --strict refuses to send.

const SAMPLES = resolve(import.meta.dirname, '../../samples');

describe('--show and the quality checks', () => {
  const { box, dir, run, stored } = qualitySandbox(runCli);

  it('--show N prints the first N documents whole, for every format, and sends nothing', async () => {
    const r = await run(['ingest', 'chats.jsonl', '--show', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('the first 2 documents, as they would be sent (on stdout)');
    // The documents are data: on stdout (`--show 5 > preview.json`, `| jq`), the rest on stderr.
    expect(r.stdout).toContain('a long answer '.repeat(30).trim());
    expect(r.stderr).not.toContain('a long answer');
    expect(r.stdout).not.toContain('show-3');
    const shown = r.stdout
      .trim()
      .split(/\n(?=\{)/)
      .map((t) => (JSON.parse(t) as { document_id: string }).document_id);
    expect(shown).toEqual(['show-1', 'show-2']);
    // Its reader gone after the first line (`| head -1`): the run still ends cleanly.
    const bin = resolve(import.meta.dirname, '../../bin/synap.js');
    const piped = await runShell(
      `{ node ${JSON.stringify(bin)} ingest chats.jsonl --show 2; echo "exit $?" >&2; } | head -1`,
      { env: box.env, cwd: dir, timeoutMs: 60_000 },
    );
    expect(piped.stdout).toBe('{\n');
    expect(piped.stderr).toMatch(/exit 0\n$/);
    expect(piped.stderr).not.toMatch(/EPIPE|Error:|at .*\.js/);
    const j = await run(['--json', 'ingest', 'chats.jsonl', '--show', '3']);
    const result = JSON.parse(j.stdout).result;
    expect(result).toMatchObject({ dry_run: true, show: 3 });
    expect(result.samples.map((s: { document_id: string }) => s.document_id)).toEqual([
      'show-1',
      'show-2',
      'show-3',
    ]);
    const csv = await run(['--json', 'ingest', 'rows.csv', '--show', '5']);
    expect(JSON.parse(csv.stdout).result.samples).toEqual([
      expect.objectContaining({
        document: 'User: hi\nAssistant: hello',
        document_id: 'show-csv',
        document_created_at: '2024-01-01T00:00:00Z',
      }),
    ]);
    const chat = await run([
      '--json',
      'ingest',
      join(SAMPLES, 'chatgpt-export', 'conversations.json'),
      '--show',
      '1',
    ]);
    expect(JSON.parse(chat.stdout).result.samples[0].document).toMatch(
      /^User: \[image robin\.jpg\]\nWhat bird/,
    );
    expect(stored('show-')).toBe(0);
  });
});
