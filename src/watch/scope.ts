/**
 * What `runcue watch` watches: the static base directories of the input patterns of the selected
 * tasks and of the tasks they need, single input files as themselves, and the config file. Within
 * those roots, only directories that could hold a matching file are entered, and only files that
 * match an input pattern are reported. node_modules, .git and .runcue never. Pure.
 */
import { relative, sep } from 'node:path';
import picomatch from 'picomatch';
import { globMatcher } from '../patterns/glob-match.ts';
import { isGlobPath, PICOMATCH_OPTIONS, staticBase } from '../patterns/glob-syntax.ts';
import type { ResolvedConfig } from '../config/resolved.ts';
import { parseTargets, tasksNeeded, type TargetFailure } from '../graph/select.ts';
import { buildTaskGraph, inputGlob, type CycleFailure } from '../graph/tasks.ts';
import { ok, type Result } from '../result.ts';

/** Directory names never watched, at any depth. */
const NEVER = new Set(['node_modules', '.git', '.runcue']);

/** The watched part of a project, as paths relative to the config directory. */
export interface WatchScope {
  /** Paths to hand to the watcher: directories, or single files (which may not exist yet). */
  readonly roots: readonly string[];
  /** The config file. */
  readonly configFile: string;
  /** Whether a change to this file matters (it matches an input pattern, or is the config). */
  isRelevantFile(path: string): boolean;
  /** Whether this directory may contain a relevant file, so it is worth entering. */
  mayContain(dir: string): boolean;
}

/** Computes the watch scope of `targets` (as for build) in `config`. */
export function watchScope(config: ResolvedConfig, targets: readonly string[]): Result<WatchScope, CycleFailure | TargetFailure> {
  const graph = buildTaskGraph(config);
  if (!graph.ok) return graph;
  const selection = parseTargets(targets, config);
  if (!selection.ok) return selection;
  const globs: string[] = [];
  const roots: string[] = [];
  const files: string[] = [];
  let everything = false;
  for (const name of tasksNeeded(selection.value, graph.value)) {
    const task = config.tasks.get(name);
    if (task === undefined) continue;
    for (const input of task.inputs) {
      const glob = inputGlob(input, task.wildcards);
      if (glob === undefined) {
        // A function input that cannot describe itself with `*`: any file may be one.
        everything = true;
        roots.push('');
        continue;
      }
      globs.push(glob);
      if (isGlobPath(glob)) roots.push(staticBase(glob));
      else files.push(glob);
    }
  }
  const configFile = toPosix(relative(config.root, config.file));
  files.push(configFile);
  return ok(makeScope({ roots: minimalRoots([...roots, ...files]), globs, files, configFile, everything }));
}

interface ScopeParts {
  readonly roots: readonly string[];
  readonly globs: readonly string[];
  /** Single files watched as themselves (their directories are entered only on their way). */
  readonly files: readonly string[];
  readonly configFile: string;
  readonly everything: boolean;
}

function makeScope({ roots, globs, files, configFile, everything }: ScopeParts): WatchScope {
  const fileMatchers = [...new Set(globs)].map((g) => globMatcher(g));
  const dirMatchers = [...new Set(globs)].filter(isGlobPath).map((g) => directoryMatcher(g));
  return {
    roots,
    configFile,
    isRelevantFile: (path) => {
      if (path === configFile) return true;
      if (isNever(path)) return false;
      return everything || fileMatchers.some((m) => m(path));
    },
    mayContain: (dir) => {
      if (dir === '') return true;
      if (isNever(dir)) return false;
      if (everything) return true;
      return dirMatchers.some((m) => m(dir)) || files.some((f) => f.startsWith(`${dir}/`));
    },
  };
}

function isNever(path: string): boolean {
  return path.split('/').some((segment) => NEVER.has(segment));
}

/**
 * Whether a directory may hold a file the glob matches: each of its segments matches the glob's
 * segment at that depth (a `**` segment matches any depth), and the glob goes deeper.
 */
export function directoryMatcher(glob: string): (dir: string) => boolean {
  const segments = glob.split('/');
  // A brace group spanning a slash (`{a/b,c}/*`) does not split into segments: enter everything.
  if (segments.some((s) => count(s, '{') !== count(s, '}'))) return () => true;
  const matchers = segments.map((s) => (s === '**' ? undefined : picomatch(s, PICOMATCH_OPTIONS)));
  return (dir) => {
    const parts = dir.split('/');
    for (let i = 0; i < parts.length; i++) {
      if (i >= segments.length - 1) return false;
      if (segments[i] === '**') return true;
      const m = matchers[i];
      if (m === undefined || !m(parts[i] ?? '')) return false;
    }
    return true;
  };
}

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}

/** Sorted roots without duplicates or paths inside another directory root. */
function minimalRoots(roots: readonly string[]): string[] {
  const sorted = [...new Set(roots)].sort();
  if (sorted.includes('')) return [''];
  return sorted.filter((r) => !sorted.some((other) => other !== r && r.startsWith(`${other}/`)));
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}
