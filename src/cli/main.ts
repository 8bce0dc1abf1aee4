/**
 * The composition root: the only place that reads argv and the environment, writes to the
 * terminal and sets the exit code. One error boundary for bugs; expected failures are values.
 */
import { CommanderError } from 'commander';
import { createProgram, type CliContext } from './program.ts';
import { VERSION } from './version.ts';

import { EXIT_CODES as EXIT } from "./commands/shared.ts";

export async function main(argv: readonly string[]): Promise<void> {
  const context: CliContext = {
    cwd: process.cwd(),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    setExitCode: (code) => {
      process.exitCode = code;
    },
  };
  const program = createProgram(context);
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; any usage mistake is exit 2 (SPEC §3).
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`runcue: internal error, please report it (runcue ${VERSION}, node ${process.versions.node})\n${detail}\n`);
    process.exitCode = EXIT.failed;
  }
}
