import type { CommandLine } from '../command-line.js';

/**
 * How results are drawn for people: colour per stream (each decided by colorFor: --no-color,
 * FORCE_COLOR, NO_COLOR, TERM=dumb, a TTY) and --quiet.
 */
export interface View {
  /** Styling for what goes to stdout (tables, records). */
  color: boolean;
  /** Styling for what goes to stderr (progress, summaries, notices). */
  stderrColor: boolean;
  quiet: boolean;
  /** The user's command line, for hints that suggest it again with something changed. */
  commandLine?: CommandLine;
}
