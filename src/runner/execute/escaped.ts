/**
 * Processes of a stopped command that left its process group (`setsid sh -c '...' &`, a
 * daemonizing tool): stopping the group does not reach them, and one that writes the unit's
 * output after the unit was timed out or stopped would leave an output that looks fresh. They
 * still carry the command's environment: the run's marker, the unit and the attempt. Found
 * through /proc (Linux; elsewhere nothing is found), they get SIGTERM, then SIGKILL at the
 * deadline, and the unit's outputs are removed after they are gone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { signalProcess } from '../process-groups.ts';

/** Stops every process whose environment holds all of `entries` (`NAME=value`); resolves once they are gone. */
export async function stopEscaped(entries: readonly string[], deadline: number): Promise<void> {
  if (entries.length === 0) return;
  let pids = findCarrying(entries);
  if (pids.length === 0) return;
  for (const pid of pids) signalProcess(pid, 'SIGTERM');
  while (pids.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    pids = pids.filter(running);
  }
  for (const pid of pids) signalProcess(pid, 'SIGKILL');
}

function findCarrying(entries: readonly string[]): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const wanted = entries.map((e) => Buffer.from(`${e}\0`));
  const found: number[] = [];
  for (const name of names) {
    const first = name.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    let environ: Buffer;
    try {
      environ = readFileSync(`/proc/${name}/environ`);
    } catch {
      continue;
    }
    // Each entry whole: preceded by the start of the block or a NUL.
    if (wanted.every((w) => environ.subarray(0, w.length).equals(w) || environ.includes(Buffer.concat([Buffer.from([0]), w]))))
      found.push(Number(name));
  }
  return found;
}

/** Alive and not a zombie. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
