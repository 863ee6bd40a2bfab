import { writeOut } from './messages.js';
import type { View } from './view.js';

/** One line of `synap doctor`: what was checked, whether it is fine, and what was found. */
export interface DoctorCheck {
  check: string;
  ok: boolean;
  detail: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

/** `synap doctor`: one line a check, ✓ or ✗ (green or red on a terminal), then what was found. */
export function printDoctor(report: DoctorReport, view: View): void {
  const width = Math.max(...report.checks.map((c) => c.check.length));
  const mark = (ok: boolean) =>
    view.color ? `\x1b[${ok ? 32 : 31}m${ok ? '✓' : '✗'}\x1b[39m` : ok ? '✓' : '✗';
  writeOut(
    report.checks.map((c) => `${mark(c.ok)} ${c.check.padEnd(width)}  ${c.detail}`).join('\n'),
  );
}
