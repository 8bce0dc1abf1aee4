/**
 * The process groups of a run's commands, and the watchdog that stops them when runcue dies.
 *
 * Every command runs as its own process group. Node has no PR_SET_PDEATHSIG, so when runcue is
 * killed with SIGKILL (or dies any other way that runs no handler) nothing would stop those
 * groups. One small `sh` per run holds the read end of a pipe and the list of live groups (runcue
 * writes `+ PGID` when a command starts and `- PGID` when its group is gone, and `.` before an
 * orderly end); when the pipe closes (EOF: runcue exited, whatever the way) it sends SIGTERM to
 * every group still listed, then SIGKILL after the grace period. One process per run, two short
 * pipe writes per unit: a wrapper per command would cost a process per unit. A command started by
 * the spawner helper is not announced (`quiet`): the helper stops its groups itself when its pipe
 * from runcue closes, and the watchdog is told of them only if the helper dies first.
 *
 * A command can run before runcue has written its `+ PGID` line (runcue may be descheduled right
 * after the fork while the command already works on the other core), and a kill -9 in that gap
 * would orphan it. So every command also carries the run's marker in its environment
 * ({@link ProcessGroups.environment}), and a watchdog whose pipe closed without the orderly `.`
 * also stops the group of every process whose environment holds the marker (one `grep` over
 * /proc/PID/environ, on that path only).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { hostname } from 'node:os';
import { outsideFunctionScope } from './function-scope.ts';

/** The groups of one run's commands. */
export interface ProcessGroups {
  /** Variables every command of the run gets: the watchdog finds commands it was not told of by them. */
  readonly environment: Readonly<Record<typeof MARKER, string>>;
  /**
   * Call before spawning a command: starts the watchdog if it is not running yet. Started after
   * the command, it would leave a window (a fork of a large process takes milliseconds) in which
   * a kill -9 of runcue orphans the command. Returns the watchdog (undefined if it could not
   * start): in-flight records name it, so a later run knows a dead run's commands may still stop.
   */
  prepare(): ProcessIdentity | undefined;
  /**
   * A function unit is about to run: {@link prepare}, and put the run's marker in this process's
   * environment (until {@link close}), so that what the function starts with node:child_process
   * carries it and the watchdog stops it when runcue dies.
   */
  forFunctions(): ProcessIdentity | undefined;
  /**
   * A command started as process group `pgid`. `quiet`: its starter (the spawner helper) stops it
   * if runcue dies, so the watchdog is not told of it (two pipe writes, and the watchdog's reads,
   * per unit) until that starter goes first ({@link handOver}) or the run ends with it alive.
   */
  add(pgid: number, quiet?: boolean): void;
  /**
   * Its direct child exited: forget the group if it is empty (`gone`: it is known to be);
   * otherwise it lingers (a background job the command left) and is stopped with the rest on
   * {@link killAll} or {@link close}.
   */
  settle(pgid: number, gone?: boolean): void;
  /** The starter of the quiet groups is gone: the watchdog is told of those still alive. */
  handOver(): void;
  /** Whether {@link close} was called: nothing is left to hand over. */
  readonly closed: boolean;
  /** Signals every group still known (the second Ctrl-C sends SIGKILL to all at once). */
  killAll(signal: NodeJS.Signals): void;
  /** End of the run: lingering groups get SIGTERM now and SIGKILL from the watchdog later. */
  close(): void;
}

const MARKER = 'RUNCUE_RUN';

/**
 * sh, not node: it starts in a millisecond. `$1` is the grace period in tenths of a second, `$2`
 * the run's marker.
 */
const WATCHDOG = `trap '' HUP INT
grace=$1 marker="${MARKER}=$2"
# runcue's own process group (the watchdog's parent is runcue): what a function task starts with
# node:child_process is in it, and so may be the rest of the user's shell job (a pipe into tee).
# Marked processes in it are stopped one by one, never as a group.
own=
{ read -r s; } <"/proc/$PPID/stat" 2>/dev/null && { set -- \${s##*')'}; own=$3; }
# A group is gone when its members are all zombies: a command orphaned by runcue's death may never
# be reaped (pid 1 in some containers), and kill -0 succeeds on a zombie. Without /proc, kill -0.
live() {
  kill -s 0 -- "-$1" 2>/dev/null || return 1
  [ -r /proc/self/stat ] || return 0
  want=$1
  for f in /proc/[0-9]*/stat; do
    { read -r s; } <"$f" 2>/dev/null || continue
    set -- \${s##*')'}
    [ "$3" = "$want" ] && [ "$1" != Z ] && return 0
  done
  return 1
}
running() {
  kill -s 0 "$1" 2>/dev/null || return 1
  { read -r s; } <"/proc/$1/stat" 2>/dev/null || return 0
  set -- \${s##*')'}
  [ "$1" != Z ]
}
# Marked processes not known yet: their groups, or themselves when in runcue's group. Sets new.
scan() {
  new=
  for f in $(grep -lzxF -e "$marker" /proc/[0-9]*/environ 2>/dev/null); do
    p=\${f#/proc/} && p=\${p%/environ}
    { read -r s; } <"/proc/$p/stat" 2>/dev/null || continue
    set -- \${s##*')'}
    if [ "$3" = "$own" ]; then
      case $pids in *" $p "*) ;; *) pids="$pids$p " new=1 ;; esac
      continue
    fi
    case $groups in *" $3 "*) ;; *) [ "$3" -gt 1 ] 2>/dev/null && groups="$groups$3 " new=1 ;; esac
  done
}
term() {
  for g in $groups; do kill -s TERM -- "-$g" 2>/dev/null; done
  for p in $pids; do kill -s TERM "$p" 2>/dev/null; done
}
groups=' ' orderly= pids=' '
while read -r op pg; do
  case $op in
    +) groups="$groups$pg " ;;
    -) rest=' '; for g in $groups; do [ "$g" = "$pg" ] || rest="$rest$g "; done; groups=$rest ;;
    .) orderly=1 ;;
  esac
done
[ -z "$orderly" ] && scan
[ "$groups" = ' ' ] && [ "$pids" = ' ' ] && exit 0
term
t=0
while [ "$t" -lt "$grace" ]; do
  left=
  for g in $groups; do live "$g" && left=1 && break; done
  for p in $pids; do [ -z "$left" ] && running "$p" && left=1; done
  if [ -z "$left" ]; then
    # All gone, unless one forked a marked process after the scan (a trap on SIGTERM that starts
    # a job, a daemon that leaves its group): look again before believing it.
    [ -n "$orderly" ] && exit 0
    scan
    [ -z "$new" ] && exit 0
    term
  fi
  sleep 0.1
  t=$((t + 1))
done
[ -z "$orderly" ] && scan
for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done
for p in $pids; do kill -s KILL "$p" 2>/dev/null; done`;

export function createProcessGroups(options: { readonly graceMs: number }): ProcessGroups {
  const live = new Set<number>();
  const quiet = new Set<number>();
  let closed = false;
  let watchdog: ChildProcess | undefined;
  let identity: ProcessIdentity | undefined;
  let broken = false;
  // Drawn when the first command needs it: a no-op build never loads node:crypto.
  let drawn: string | undefined;
  const marker = (): string => (drawn ??= randomBytes(8).toString('hex'));
  const prepare = (): ProcessIdentity | undefined => {
    if (!watchdog && !broken) {
      watchdog = startWatchdog(options.graceMs, marker(), () => (broken = true));
      if (watchdog.pid !== undefined) {
        const started = processStartTime(watchdog.pid);
        identity = { pid: watchdog.pid, host: hostname(), ...(started !== undefined ? { started } : {}) };
      }
    }
    return broken ? undefined : identity;
  };
  const exported = markerExport(marker);
  const tell = (line: string): void => {
    if (broken) return;
    prepare();
    watchdog?.stdin?.write(line);
  };
  return {
    get environment() {
      return { [MARKER]: marker() };
    },
    prepare,
    forFunctions() {
      const identity = prepare();
      exported.put();
      return identity;
    },
    add(pgid, silent = false) {
      live.add(pgid);
      if (silent) quiet.add(pgid);
      else tell(`+ ${pgid}\n`);
    },
    settle(pgid, gone = false) {
      if (!live.has(pgid) || (!gone && groupAlive(pgid))) return;
      live.delete(pgid);
      if (!quiet.delete(pgid)) tell(`- ${pgid}\n`);
    },
    handOver() {
      for (const pgid of quiet) if (groupAlive(pgid)) tell(`+ ${pgid}\n`);
      quiet.clear();
    },
    get closed() {
      return closed;
    },
    killAll(signal) {
      for (const pgid of live) signalGroup(pgid, signal);
    },
    close() {
      closed = true;
      exported.remove();
      for (const pgid of live) {
        if (groupAlive(pgid)) {
          // The watchdog sends the SIGKILL after the grace period (runcue may be gone by then).
          if (quiet.has(pgid)) tell(`+ ${pgid}\n`);
          signalGroup(pgid, 'SIGTERM');
        } else if (!quiet.has(pgid)) tell(`- ${pgid}\n`);
      }
      live.clear();
      quiet.clear();
      if (watchdog && !broken) watchdog.stdin?.write('.\n');
      watchdog?.stdin?.end();
    },
  };
}

/** Starts a run's watchdog; `broken` is called when it cannot be started or told anything. */
function startWatchdog(graceMs: number, marker: string, broken: () => void): ChildProcess {
  // A runcue run by a command of another runcue inherits that run's marker; its watchdog must
  // not carry it, or the outer watchdog would stop it and orphan this run's commands.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== MARKER));
  const watchdog = outsideFunctionScope(() =>
    spawn('/bin/sh', ['-c', WATCHDOG, 'runcue-watchdog', String(Math.ceil(graceMs / 100)), marker], {
      // Its own group: a Ctrl-C or hangup sent to runcue's group must not reach it.
      detached: true,
      env,
      stdio: ['pipe', 'ignore', 'ignore'],
    }),
  );
  watchdog.on('error', broken);
  watchdog.stdin?.on('error', broken);
  watchdog.unref();
  // The pipe must not keep runcue alive; it closes when runcue exits.
  (watchdog.stdin as Socket | null)?.unref();
  return watchdog;
}

/**
 * The run's marker in this process's environment, for what function tasks start: `put` once,
 * `remove` restores what was there before (another run's marker, or none) unless another run
 * has put its own since.
 */
function markerExport(marker: () => string): { put(): void; remove(): void } {
  let exported: { readonly marker: string; readonly before: string | undefined } | undefined;
  return {
    put() {
      if (exported !== undefined) return;
      exported = { marker: marker(), before: process.env[MARKER] };
      process.env[MARKER] = exported.marker;
    },
    remove() {
      if (exported === undefined || process.env[MARKER] !== exported.marker) return;
      if (exported.before === undefined) Reflect.deleteProperty(process.env, MARKER);
      else process.env[MARKER] = exported.before;
    },
  };
}

/** Whether any process of group `pgid` is alive. */
export function groupAlive(pgid: number | undefined): boolean {
  if (pgid === undefined) return false;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether group `pgid` has a member that is not a zombie, by a scan of /proc made after the call
 * (Linux; elsewhere as {@link groupAlive}). A stopped command's orphaned children are reparented
 * to pid 1, which in some containers reaps them late or never, and kill -0 succeeds on a zombie:
 * waiting for the group to be gone then waited for the kill grace (or for pid 1's next reap).
 * Callers in the same moment share one scan, and scans are at least {@link SCAN_SPACING_MS} apart:
 * a scan reads every process's stat file.
 */
export async function groupRunning(pgid: number | undefined): Promise<boolean> {
  if (pgid === undefined || !groupAlive(pgid)) return false;
  const running = await nextScan();
  return running === undefined || running.has(pgid);
}

const SCAN_SPACING_MS = 50;
let pendingScan: Promise<ReadonlySet<number> | undefined> | undefined;
let lastScan = 0;

function nextScan(): Promise<ReadonlySet<number> | undefined> {
  pendingScan ??= new Promise((resolve) => {
    setTimeout(
      () => {
        pendingScan = undefined;
        lastScan = Date.now();
        resolve(runningGroups());
      },
      Math.max(0, lastScan + SCAN_SPACING_MS - Date.now()),
    );
  });
  return pendingScan;
}

/** The groups with a member that is not a zombie; undefined without /proc. */
function runningGroups(): ReadonlySet<number> | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const running = new Set<number>();
  for (const entry of entries) {
    const first = entry.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    const stat = procStatFields(entry);
    if (stat !== undefined && stat[0] !== 'Z') running.add(Number(stat[2]));
  }
  return running;
}

/** Signals one process; nothing when it is gone. */
export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Gone already.
  }
}

export function signalGroup(pgid: number | undefined, signal: NodeJS.Signals): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is already gone.
  }
}

/** This process, as an in-flight record names its owner. */
export interface ProcessIdentity {
  readonly pid: number;
  readonly host: string;
  /** The kernel's start time of the process (Linux), so a reused pid is not taken for it. */
  readonly started?: string;
}

let self: ProcessIdentity | undefined;

export function thisProcess(): ProcessIdentity {
  if (self) return self;
  const started = processStartTime(process.pid);
  self = { pid: process.pid, host: hostname(), ...(started !== undefined ? { started } : {}) };
  return self;
}

/** Whether the process that wrote a record on this host still runs (and is the same process). */
export function processAlive(owner: ProcessIdentity): boolean {
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(owner.pid);
  // A zombie is dead: a killed runcue whose parent never reaps it (pid 1 in some containers).
  if (stat?.state === 'Z') return false;
  return owner.started === undefined || stat === undefined || stat.started === owner.started;
}

/** Start time of a process (field 22 of /proc/PID/stat, clock ticks since boot); undefined off Linux. */
function processStartTime(pid: number): string | undefined {
  return procStat(pid)?.started;
}

/** Whether process `pid` exists and is not a zombie (Linux: /proc; false where it cannot be read). */
export function processRunning(pid: number): boolean {
  const state = procStat(pid)?.state;
  return state !== undefined && state !== 'Z';
}

function procStat(pid: number): { state: string; started: string } | undefined {
  const fields = procStatFields(String(pid));
  return fields && { state: fields[0] ?? '', started: fields[19] ?? '' };
}

/** The fields of /proc/PID/stat from the third (the state) on; undefined if it cannot be read. */
function procStatFields(pid: string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
