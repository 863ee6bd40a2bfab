/**
 * What opening the config store found worth telling the user, kept apart from the store so
 * the command runner can collect it without loading `conf` for commands that never open it.
 */
const notices: string[] = [];

export function addConfigNotice(message: string): void {
  notices.push(message);
}

/** The notices gathered so far, each handed out once (shown by the command runner). */
export function takeConfigNotices(): string[] {
  return notices.splice(0);
}
