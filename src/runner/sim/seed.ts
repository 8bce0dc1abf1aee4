/**
 * What a rehearsal's file system starts with (memory-file-system.ts): for the user's config,
 * every file under the tasks' pattern bases (same relative path, same mtime and size) and the
 * records of which files each unit wrote (`.runcue/outputs`, so dynamic outputs that exist stay
 * fresh); for any source, synthetic inputs. The real project is only read.
 */
import type { ResolvedConfig, ResolvedTask } from '../../config/resolved.ts';
import type { Pattern } from '../../patterns/pattern.ts';
import { err, ok, type Result } from '../../result.ts';
import { nodeFileSystem } from '../file-system.ts';
import { statPath } from '../files.ts';
import { listFiles } from '../walk.ts';
import type { MemoryFileSystem } from './memory-file-system.ts';
import { namesFor } from './names.ts';

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

const RECORDS = '.runcue/outputs';

/** Copies the project's files under the pattern bases (names and stats) and its output records; returns how many files. */
export function seedFromProject(config: ResolvedConfig, fs: MemoryFileSystem): number {
  const disk = nodeFileSystem(config.root);
  let copied = 0;
  for (const base of patternBases(config.tasks.values())) {
    for (const rel of listFiles(disk, base)) {
      const stat = statPath(disk, rel);
      if (!stat) continue;
      fs.put(rel, stat.mtimeMs, '', stat.size);
      copied++;
    }
  }
  let records: readonly string[] = [];
  try {
    // The journals (output-journal.ts), and record files of the format before them.
    records = disk.readdir(RECORDS).flatMap((e) => (e.isFile() && /\.jsonl?$/.test(e.name) ? [e.name] : []));
  } catch {
    // No records yet: nothing was built.
  }
  for (const name of records) {
    const rel = `${RECORDS}/${name}`;
    try {
      fs.put(rel, statPath(disk, rel)?.mtimeMs ?? 0, disk.readText(rel));
    } catch {
      // Unreadable: the unit is judged as never recorded, as a build would.
    }
  }
  return copied;
}

/** Synthetic input files: `count` names made up for `glob` (`--files 'docs/*.pdf=20'`). */
export interface SyntheticFiles {
  readonly glob: string;
  readonly count: number;
  /** Before each file's number (default `file`: `docs/file-01.pdf`). */
  readonly stem?: string;
}

/** Adds the synthetic files with `mtimeMs`; says which glob names could not be made up. */
export function writeSynthetic(fs: MemoryFileSystem, specs: readonly SyntheticFiles[], mtimeMs: number): Result<number, string> {
  let written = 0;
  for (const spec of specs) {
    const names = namesFor(spec.glob, spec.count, spec.stem ?? 'file');
    if (!names.ok) return err(`--files ${names.error}`);
    for (let i = 0; i < names.value.length; i++) fs.put(names.value[i] as string, mtimeMs);
    written += names.value.length;
  }
  return ok(written);
}

/**
 * The config as a simulation runs it: no hooks (the user's code is not run), custom ready/stale
 * checks left out (they may read real files: the default rules apply), and mtime freshness
 * (contents are not copied, so content hashes would say nothing).
 */
export function simConfig(config: ResolvedConfig): ResolvedConfig {
  const tasks = new Map<string, ResolvedTask>();
  for (const [name, task] of config.tasks) tasks.set(name, { ...task, ready: undefined, stale: undefined, freshness: 'mtime' });
  return { ...config, tasks, hooks: {} };
}

/**
 * The synthetic files no task would see: their first name matches no pattern of any task (a
 * typo such as `doc/*.pdf` for `docs/*.pdf`). None when a task has an input function (its paths
 * are known per unit only).
 */
export function unreadSynthetic(config: ResolvedConfig, specs: readonly SyntheticFiles[]): SyntheticFiles[] {
  const patterns: Pattern[] = [];
  for (const task of config.tasks.values()) {
    for (const input of task.inputs) {
      if (input.kind !== 'pattern') return [];
      patterns.push(input.pattern);
    }
    for (const output of task.outputs) patterns.push(output.pattern);
  }
  return specs.filter((spec) => {
    const names = namesFor(spec.glob, 1, spec.stem ?? 'file');
    const first = names.ok ? names.value[0] : undefined;
    return first !== undefined && !patterns.some((p) => p.match(first) !== undefined);
  });
}
