// Running one command and measuring it: wall time, or peak resident memory.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const TIME = '/usr/bin/time';
const PROBE = path.join(import.meta.dirname, 'rss-probe.mjs');

/** Why a measured command failed: its exit status and the tail of its stderr. */
class CommandFailed extends Error {
  constructor(cmd, args, result) {
    const tail = String(result.stderr ?? '')
      .trim()
      .split('\n')
      .slice(-8)
      .join('\n');
    const status = result.error ? result.error.message : `exit ${result.status ?? result.signal}`;
    super(`${[cmd, ...args].join(' ')}: ${status}${tail ? `\n${tail}` : ''}`);
    this.name = 'CommandFailed';
  }
}

function run(cmd, args, cwd, env) {
  const result = spawnSync(cmd, args, {
    cwd,
    env: env ?? process.env,
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error || result.status !== 0) throw new CommandFailed(cmd, args, result);
  return result;
}

/** Runs a command (stdout discarded) and returns its wall time in ms; throws CommandFailed. */
export function timeCommand({ cmd, args }, cwd) {
  const start = process.hrtime.bigint();
  run(cmd, args, cwd);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** How peak RSS is measured here: GNU time when installed, else a preload for Node commands. */
export const rssMethod = existsSync(TIME) ? '/usr/bin/time -v' : 'process.resourceUsage() preload (Node commands only)';

/**
 * Peak resident set size of a command in MB, or undefined when it cannot be measured (no GNU
 * time and not a Node command). GNU time reports the largest of the process and its children.
 */
export function peakRssMb({ cmd, args, isNode }, cwd) {
  if (existsSync(TIME)) {
    const result = run(TIME, ['-v', cmd, ...args], cwd);
    const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(String(result.stderr));
    if (!match) throw new Error(`${TIME} -v printed no maximum resident set size`);
    return Number(match[1]) / 1024;
  }
  if (!isNode) return undefined;
  const file = path.join(os.tmpdir(), `runcue-bench-rss-${process.pid}`);
  rmSync(file, { force: true });
  run(cmd, ['--import', PROBE, ...args], cwd, { ...process.env, RUNCUE_BENCH_RSS_FILE: file });
  const kb = Number(readFileSync(file, 'utf8'));
  rmSync(file, { force: true });
  return kb / 1024;
}

/** Median, min and max of a list of samples. */
export function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted.at(-1), samples: sorted.length };
}
