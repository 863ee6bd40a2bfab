import type { Command } from 'commander';

/**
 * Commands declared when they are used. The program lists every top-level command by name and
 * description; what a command declares (its options, arguments, subcommands and help) is loaded
 * only when that command is about to parse its arguments, shows its help or is completed. So
 * `synap --version` or `synap memories list --help` never load the modules of ingest, export or
 * the emulator.
 */

const loaders = new WeakMap<Command, () => Promise<void>>();

/** Registers how `cmd` is declared; run once, by declared(). */
export function declareLater(cmd: Command, load: () => Promise<void>): Command {
  loaders.set(cmd, load);
  return cmd;
}

/** `cmd`, fully declared (its loader run, once). */
export async function declared(cmd: Command): Promise<Command> {
  const load = loaders.get(cmd);
  if (load) {
    loaders.delete(cmd);
    await load();
  }
  return cmd;
}
