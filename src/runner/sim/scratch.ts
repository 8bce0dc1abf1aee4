/**
 * The scratch tree a simulation runs in. The real planner and scheduler read and write real
 * files, so a rehearsal runs over a copy of the project's file TREE: an empty placeholder for
 * every file under the tasks' pattern bases (same relative path, same mtime), the records of
 * which files each unit wrote (`.runcue/outputs`, so dynamic outputs that exist stay fresh), and
 * synthetic inputs. It lives in /dev/shm when there is one, and the real project is only read.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ResolvedConfig, ResolvedTask } from '../../config/resolved.ts';
import { err, ok, type Result } from '../../result.ts';
import { statPath } from '../files.ts';
import { listFiles } from '../walk.ts';
import { namesFor } from './names.ts';

/** A temporary directory, removed by `remove()`. */
export interface Scratch {
  readonly root: string;
  remove(): void;
}

/** A new scratch directory, in memory (/dev/shm) when the system has one. */
export function createScratch(): Scratch {
  const parent = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const root = mkdtempSync(join(parent, 'runcue-sim-'));
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** Writes an empty file at `root/rel` with the given mtime, making its directory. */
export function placeholder(root: string, rel: string, mtimeMs: number): void {
  const file = `${root}/${rel}`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, '');
  utimesSync(file, mtimeMs / 1000, mtimeMs / 1000);
}

/** Static directory prefixes of every pattern of the tasks, with none inside another. */
function patternBases(tasks: Iterable<ResolvedTask>): string[] {
  const bases = new Set<string>();
  for (const task of tasks) {
    for (const input of task.inputs) bases.add(input.kind === 'pattern' ? input.pattern.base : '');
    for (const output of task.outputs) bases.add(output.pattern.base);
  }
  const sorted = [...bases].sort();
  return sorted.filter((b) => !sorted.some((other) => other !== b && (other === '' || b.startsWith(`${other}/`))));
}

/** Copies the project's tree under the pattern bases as placeholders; returns how many files. */
export function seedFromProject(config: ResolvedConfig, root: string): number {
  let copied = 0;
  for (const base of patternBases(config.tasks.values())) {
    for (const rel of listFiles(config.root, base)) {
      const stat = statPath(config.root, rel);
      if (!stat) continue;
      placeholder(root, rel, stat.mtimeMs);
      copied++;
    }
  }
  const records = join(config.root, '.runcue', 'outputs');
  if (existsSync(records)) cpSync(records, join(root, '.runcue', 'outputs'), { recursive: true });
  return copied;
}

/** Synthetic input files: `count` names made up for `glob` (`--files 'docs/*.pdf=20'`). */
export interface SyntheticFiles {
  readonly glob: string;
  readonly count: number;
  /** Before each file's number (default `file`: `docs/file-01.pdf`). */
  readonly stem?: string;
}

/** Writes the synthetic files with `mtimeMs`; says which glob names could not be made up. */
export function writeSynthetic(root: string, specs: readonly SyntheticFiles[], mtimeMs: number): Result<number, string> {
  let written = 0;
  for (const spec of specs) {
    const names = namesFor(spec.glob, spec.count, spec.stem ?? 'file');
    if (!names.ok) return err(`--files ${names.error}`);
    for (const name of names.value) placeholder(root, name, mtimeMs);
    written += names.value.length;
  }
  return ok(written);
}

/**
 * The config as a simulation runs it: rooted in the scratch tree, no hooks (the user's code is
 * not run), custom ready/stale checks left out (they may read real files: the default rules
 * apply), and mtime freshness (placeholders are empty, so content hashes would say nothing).
 */
export function simConfig(config: ResolvedConfig, root: string): ResolvedConfig {
  const tasks = new Map<string, ResolvedTask>();
  for (const [name, task] of config.tasks) tasks.set(name, { ...task, ready: undefined, stale: undefined, freshness: 'mtime' });
  return { ...config, root, file: join(root, 'runcue.config.sim'), tasks, hooks: {} };
}
