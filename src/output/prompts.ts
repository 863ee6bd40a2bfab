import {
  confirm as inquirerConfirm,
  input as inquirerInput,
  password as inquirerPassword,
} from '@inquirer/prompts';
import { InterruptedError, UsageError } from '../errors.js';

/**
 * The one guard around @inquirer/prompts: nothing prompts unless the session is interactive
 * (TTY, no CI, no --json, no --no-input). Otherwise a UsageError tells the user the
 * non-interactive way to do the same thing. Prompts draw on stderr so stdout stays data.
 */
export interface PromptGuard {
  interactive: boolean;
  /** How to do it without a prompt, e.g. "pipe the key to 'synap auth login --api-key-stdin'". */
  alternative: string;
  /** Colour on stderr, where prompts draw (colorFor): false with --no-color, NO_COLOR, … */
  color: boolean;
}

/**
 * @inquirer's look without colour or bold. Its own theme decides colour from the environment
 * alone and would still colour the prompt under --no-color.
 */
const PLAIN_THEME = {
  prefix: { idle: '?', done: '✔' },
  style: {
    answer: (text: string) => text,
    message: (text: string) => text,
    error: (text: string) => `> ${text}`,
    defaultAnswer: (text: string) => `(${text})`,
    help: (text: string) => text,
    highlight: (text: string) => text,
    key: (text: string) => `<${text}>`,
  },
};

/** The theme for `guard`, with `prefix` over the default or the plain one. */
function themeFor(guard: PromptGuard, prefix: { done?: string } = {}) {
  return guard.color
    ? { prefix }
    : { ...PLAIN_THEME, prefix: { ...PLAIN_THEME.prefix, ...prefix } };
}

/** Runs a prompt when the session is interactive; says how to do without one when it is not. */
async function ask<T>(what: string, guard: PromptGuard, run: () => Promise<T>): Promise<T> {
  if (!guard.interactive) {
    throw new UsageError(`cannot ${what}: this session is not interactive`, {
      hints: [guard.alternative],
    });
  }
  try {
    return await run();
  } catch (err) {
    // Ctrl-C inside a prompt: exit 130 like any other interruption.
    const name = err instanceof Error ? err.name : '';
    if (name === 'ExitPromptError' || name === 'AbortPromptError')
      throw new InterruptedError('cancelled');
    throw err;
  }
}

/**
 * Asks for a secret, echoing a mask character per key press. An empty answer is not taken: the
 * prompt says so and asks again. Once answered the line is marked "›", not "✔": the caller has
 * not checked the secret yet and says so itself when it has.
 */
export async function promptSecret(message: string, guard: PromptGuard): Promise<string> {
  return ask('ask for a secret', guard, () =>
    inquirerPassword(
      {
        message,
        mask: '*',
        validate: (value) =>
          value.trim() !== '' || 'Nothing was entered; type or paste the key (Ctrl-C cancels).',
        theme: themeFor(guard, { done: '›' }),
      },
      { output: process.stderr, clearPromptOnDone: false },
    ),
  );
}

/** Yes/no question; default answer "no" so Enter never confirms something destructive. */
export async function promptConfirm(message: string, guard: PromptGuard): Promise<boolean> {
  return ask('ask for confirmation', guard, () =>
    inquirerConfirm(
      { message, default: false, theme: themeFor(guard) },
      { output: process.stderr },
    ),
  );
}

/** Asks for one line of text (shown as typed); an empty answer is returned as ''. */
export async function promptText(message: string, guard: PromptGuard): Promise<string> {
  return ask('ask a question', guard, () =>
    inquirerInput({ message, theme: themeFor(guard) }, { output: process.stderr }),
  );
}
