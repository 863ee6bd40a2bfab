import type { FormatReadContext } from '../formats/spec.js';
import { parseError, rawOf } from '../readers/common.js';
import type { RecordBatch } from '../source-record.js';
import { TranscriptError, transcriptRecord, type Turn } from './transcript.js';
import { readWhole, tooLargeToRead } from './whole-file.js';

/** The file name a source is known by (`export.zip:dir/a.vtt` → `a.vtt`). */
function fileName(source: string): string {
  return source.split(/[/\\:]/).pop() || source;
}

/**
 * The record of one transcript file (WebVTT or SRT): read whole (cues are small, and a file is
 * one document), parsed by `parse`, one `meeting-transcript` document at line 1. Its time is
 * `--created-at`, else the file's modification time with a warning that says so (cue times are
 * offsets from the meeting's start, which the file does not hold), else none, with a warning.
 * A file that is not of the format, or has no spoken text, fails with its text kept.
 */
export async function* readTranscript(
  kind: 'vtt' | 'srt',
  parse: (text: string) => Turn[],
  bytes: AsyncIterable<Buffer>,
  ctx: FormatReadContext,
): AsyncGenerator<RecordBatch> {
  if (ctx.startAfterLine >= 1) return;
  // A transcript larger than 64 MB is not a meeting's captions: it fails instead of being held.
  const { bytes: buf, truncated } = await readWhole(bytes);
  if (truncated) {
    yield [tooLargeToRead(ctx.source, 'a transcript', buf, kind)];
    return;
  }
  const text = buf.toString('utf8');
  let turns: Turn[];
  try {
    turns = parse(text);
  } catch (err) {
    const line = err instanceof TranscriptError ? err.line : 1;
    yield [parseError(ctx.source, line, (err as Error).message, rawOf(buf, text), kind)];
    return;
  }
  let createdAt = ctx.createdAt;
  if (createdAt === undefined && ctx.modifiedAt) {
    createdAt = ctx.modifiedAt.toISOString();
    ctx.warn?.({
      source: ctx.source,
      code: 'CREATED_AT_FROM_FILE',
      message: `${ctx.source}: the meeting's start is taken from the file's modification time (${createdAt}); give --created-at <ISO time> if that is not when it started`,
    });
  } else if (createdAt === undefined) {
    ctx.warn?.({
      source: ctx.source,
      code: 'NO_CREATED_AT',
      message: `${ctx.source}: no meeting start is known (cue times are offsets): give --created-at <ISO time>`,
    });
  }
  const value = transcriptRecord(turns, {
    source: kind,
    file: fileName(ctx.source),
    ...(createdAt !== undefined ? { createdAt } : {}),
  });
  if (!value) {
    yield [
      parseError(ctx.source, 1, 'the transcript holds no spoken text', rawOf(buf, text), kind),
    ];
    return;
  }
  yield [{ source: ctx.source, line: 1, value, format: kind }];
}
