/**
 * How far this process's run got, for the engine's code cache (engine-script.ts): the cache holds
 * what the run that wrote it compiled, so a run that went further compiled code it lacks and
 * writes it again. Levels only go up, so a command's cache is written at most four times.
 */
import type { RunEvent } from '../runner/events.ts';
import type { WatchEvent } from '../watch/events.ts';

/** 0: no run ended (plan, why, a config error); 1: a run with no units; 2: units were checked; 3: a unit started. */
let reach = 0;

/** Called with every event of a run (commands/run.ts). */
export function noteReach(event: RunEvent | WatchEvent): void {
  if (reach === 3) return;
  if (event.type === 'unit:start') reach = 3;
  else if (event.type === 'run:done') {
    const { built, fresh, failed, blocked } = event.counts;
    reach = Math.max(reach, built + fresh + failed + blocked > 0 ? 2 : 1);
  }
}

/** The level reached so far (see `reach`). */
export function codeReach(): number {
  return reach;
}
