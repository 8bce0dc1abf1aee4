/**
 * `runcue watch [targets...]`: build, then rebuild what file changes touch, until Ctrl-C.
 * Watching never ends on its own: a failure is reported and watching goes on (`--keep-going` is
 * implied); only a signal (exit 130/143) or a bad config or target at startup (exit 2) end it.
 */
import { watch } from '../../watch/session.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import type { BuildCommandOptions, CliContext } from '../options.ts';
import { loadForCommand } from './load.ts';
import { runFlags, runReported } from './run.ts';
import { interruptedExitCode } from './signals.ts';

/** Builds, then rebuilds on changes until a signal; resolves to 130/143 (or 2 when it cannot start). */
export async function watchCommand(targets: readonly string[], options: BuildCommandOptions, context: CliContext): Promise<number> {
  const loaded = await loadForCommand(options, context);
  if (!loaded.ok) return loaded.exitCode;
  const ran = await runReported(
    options,
    context,
    loaded,
    (hooks) =>
      watch({
        ...runFlags(targets, options, loaded, context),
        ...hooks,
        onWarning: (message) => context.stderr.write(`runcue: ${message}\n`),
        ...reloadTimeout(context.env),
      }),
    { command: 'watch', targets },
  );
  if (!ran.ok) return ran.exitCode;
  return interruptedExitCode(ran.value.interrupted) ?? EXIT_CODES.sigint;
}

/** `RUNCUE_RELOAD_TIMEOUT_MS`: how long a config reload may take (tests shorten it). */
function reloadTimeout(env: Readonly<Record<string, string | undefined>>): { reloadTimeoutMs?: number } {
  const ms = Number(env['RUNCUE_RELOAD_TIMEOUT_MS']);
  return Number.isFinite(ms) && ms > 0 ? { reloadTimeoutMs: ms } : {};
}
