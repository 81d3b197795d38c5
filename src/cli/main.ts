import type { CliIo } from './io.js';
import { rollout } from './rollout.js';
import { serve } from './serve.js';

const COMMANDS: Readonly<Record<string, (args: readonly string[], io: CliIo) => Promise<number>>> =
  { serve, rollout: (args, io) => rollout(args, io) };

/** Runs `rampflag <command> …`; returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  const usage = `usage: rampflag <command> [--help]\ncommands: ${Object.keys(COMMANDS).join(', ')}`;
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage);
    return 0;
  }
  const command = name === undefined ? undefined : COMMANDS[name];
  if (command === undefined) {
    io.stderr(name === undefined ? usage : `rampflag: unknown command "${name}"\n${usage}`);
    return 2;
  }
  return command(args, io);
}
