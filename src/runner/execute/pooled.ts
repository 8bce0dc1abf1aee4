/**
 * A command started by the spawner pool's helper (spawner.ts): the same process group, stops,
 * waits and outcomes as a command runcue forks itself (spawn.ts), its output read from the helper
 * at its exit instead of from pipes.
 */
import { describeEnd, errnoError, GroupStop, HELPER_LOST, type ExecOptions, type ExecOutcome } from './exec-end.ts';
import { OutputTail } from './output-tail.ts';
import type { ProcessGroups } from '../process-groups.ts';
import type { SpawnHandlers, SpawnRequest } from './spawner.ts';

/**
 * Runs `argv` through `spawner`; undefined when the helper cannot take it (the caller forks it
 * directly, which fails or runs it as it would have without a pool).
 */
export function execPooled(
  spawner: { start(request: SpawnRequest, handlers: SpawnHandlers, groups?: ProcessGroups): boolean },
  argv: readonly string[],
  env: ExecOptions['env'],
  options: ExecOptions,
): Promise<ExecOutcome> | undefined {
  const file = argv[0] ?? '';
  let settle: (outcome: ExecOutcome) => void = () => undefined;
  const outcome = new Promise<ExecOutcome>((resolve) => (settle = resolve));
  const stop = new GroupStop(options, true);
  let running = false;
  const end = (
    spawnError: Error | undefined,
    code: number | null,
    signal: NodeJS.Signals | null,
    text: string,
    groupGone = false,
  ): void => {
    const tail = new OutputTail();
    tail.push(text);
    void stop
      .end({ spawnError, code, signal, outputTail: tail.text() }, groupGone)
      .then((ended) => settle(describeEnd(file, ended, options.timeoutMs)));
  };
  const sent = spawner.start(
    { cwd: options.cwd, argv, env },
    {
      spawned: (pid) => {
        running = true;
        stop.started(pid);
      },
      failed: (code) => end(errnoError(file, code), null, null, ''),
      exited: (code, signal, text, groupGone) => end(undefined, code, signal, text, groupGone),
      // A command already running was started fine: its failure must not read "could not start".
      lost: (why) =>
        end(
          errnoError(
            file,
            running ? HELPER_LOST : 'EHELPER',
            `its spawner helper (python3) ${why}; RUNCUE_SPAWN=direct forks commands without it`,
          ),
          null,
          null,
          '',
        ),
    },
    options.groups,
  );
  if (sent) return outcome;
  stop.exited();
  return undefined;
}
