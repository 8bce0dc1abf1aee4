/**
 * Processes of a stopped or failed command that left its process group (`setsid sh -c '...' &`,
 * a daemonizing tool): stopping the group does not reach them, and one that writes the unit's
 * output after the unit failed, timed out or was stopped would leave an output that looks
 * fresh. They still carry the command's environment: the run's marker, the unit and the
 * attempt. Found through /proc (Linux; elsewhere nothing is found), they get SIGTERM, then
 * SIGKILL at the deadline, and the unit's outputs are removed after they are gone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { processRunning, signalProcess } from '../process-groups.ts';

/**
 * Stops every process whose environment holds all of `entries` (`NAME=value`); resolves once
 * they are gone. `since`: when the stop began; a scan of /proc made since then is shared (a
 * Ctrl-C stops every running unit at once, and a scan reads every process's environment).
 * `after`: only processes started after this pid can be the command's (a failed command's
 * group leader, when it ran too briefly for pids to wrap all the way around): the scan then
 * reads only their environments, and is not shared.
 */
export async function stopEscaped(entries: readonly string[], since: number, deadline: number, after?: number): Promise<void> {
  if (entries.length === 0) return;
  let environs: ReadonlyMap<number, Buffer>;
  if (after !== undefined) environs = scanEnvirons(after);
  else {
    if (!lastScan || lastScan.time < since) lastScan = { time: Date.now(), environs: scanEnvirons(0) };
    environs = lastScan.environs;
  }
  const wanted = entries.map((e) => Buffer.from(`${e}\0`));
  const carries = (environ: Buffer | undefined): boolean => environ !== undefined && wanted.every((w) => holds(environ, w));
  // Read again before a signal: a pid of the shared scan may have been reused since.
  let pids = [...environs].filter(([pid, environ]) => carries(environ) && carries(environOf(pid))).map(([pid]) => pid);
  // One that is stopped may start another as it goes (a trap on SIGTERM that starts a job in a
  // session of its own): once they are gone, look again, a few times at most.
  const stopped = new Set<number>();
  for (let round = 0; pids.length > 0 && round < 4; round++) {
    await stopAll(pids, deadline);
    for (const pid of pids) stopped.add(pid);
    pids = [...scanEnvirons(after ?? 0)].filter(([pid, environ]) => !stopped.has(pid) && carries(environ)).map(([pid]) => pid);
  }
}

/** SIGTERM to each, SIGKILL to those still running at the deadline. */
async function stopAll(pids: readonly number[], deadline: number): Promise<void> {
  if (pids.length === 0) return;
  for (const pid of pids) signalProcess(pid, 'SIGTERM');
  let left = pids;
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    left = left.filter(processRunning);
  }
  for (const pid of left) signalProcess(pid, 'SIGKILL');
}

let lastScan: { readonly time: number; readonly environs: ReadonlyMap<number, Buffer> } | undefined;

/**
 * Whether a pid may have been handed out after `after`. Pids count up to pid_max (32768 on many
 * machines) and wrap around to low numbers: the last one handed out (/proc/loadavg's last field,
 * per pid namespace) below `after` says they did. Nothing is ruled out when `after` is 0 or the
 * last pid is unknown.
 */
function newerThan(after: number): (pid: number) => boolean {
  const last = after > 0 ? lastPid() : 0;
  if (last === 0) return () => true;
  return last >= after ? (pid) => pid > after : (pid) => pid > after || pid <= last;
}

/** The pid handed out last (/proc/loadavg's last field, per pid namespace); 0 when unknown. */
export function lastPid(): number {
  try {
    return Number(readFileSync('/proc/loadavg', 'latin1').trim().split(' ').pop()) || 0;
  } catch {
    return 0;
  }
}

/** Each readable process's environment block (of the pids handed out after `after`, when not 0). */
function scanEnvirons(after: number): Map<number, Buffer> {
  const environs = new Map<number, Buffer>();
  const newer = newerThan(after);
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return environs;
  }
  for (const name of names) {
    const first = name.charCodeAt(0);
    if (first < 48 || first > 57 || !newer(Number(name))) continue;
    const environ = environOf(Number(name));
    if (environ) environs.set(Number(name), environ);
  }
  return environs;
}

function environOf(pid: number): Buffer | undefined {
  try {
    return readFileSync(`/proc/${pid}/environ`);
  } catch {
    // Gone meanwhile, or not ours to read.
    return undefined;
  }
}

/** Whether the block holds `entry` (NUL-terminated) whole: at its start or after a NUL. */
function holds(environ: Buffer, entry: Buffer): boolean {
  if (environ.subarray(0, entry.length).equals(entry)) return true;
  return environ.includes(Buffer.concat([NUL, entry]));
}

const NUL = Buffer.from([0]);
