import type { CliIo } from './io.js';
import { serve } from './serve.js';

const COMMANDS: Readonly<Record<string, (args: readonly string[], io: CliIo) => Promise<number>>> =
  { serve };

/** Runs `rampflag <command> …`; returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  const command = name === undefined ? undefined : COMMANDS[name];
  if (command === undefined) {
    io.stderr(`usage: rampflag <command>\ncommands: ${Object.keys(COMMANDS).join(', ')}`);
    return 2;
  }
  return command(args, io);
}
