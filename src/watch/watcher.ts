/**
 * The thin chokidar adapter: watches a {@link WatchScope} under a root and reports additions,
 * changes and removals of relevant files as paths relative to that root. No policy here.
 */
import type { Stats } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { WatchScope } from './scope.ts';

/** What happened to a file. */
export type FileChangeKind = 'add' | 'change' | 'unlink';

/** A running watcher. */
export interface FileWatcher {
  /** Stops watching; resolves when every handle is released. */
  close(): Promise<void>;
}

/** Where and what to watch, and whom to tell. */
export interface WatcherOptions {
  /** Absolute directory the scope's paths are relative to. */
  readonly root: string;
  readonly scope: WatchScope;
  readonly onChange: (path: string, kind: FileChangeKind) => void;
  /**
   * The operating system named a relevant file; `onChange` follows once the watcher has looked at
   * it (if it changed). Lets the debounce see a burst before the watcher has caught up with it.
   */
  readonly onStir?: (path: string) => void;
  /** A watcher error (permissions, too many watches): reported, watching goes on. */
  readonly onError: (error: Error) => void;
}

/** Opens a watcher on the scope; resolves once its initial scan is done (changes after it are seen). */
export type OpenWatcher = (options: WatcherOptions) => Promise<FileWatcher>;

/**
 * The chokidar watcher. chokidar is imported here, when watching starts: the package entry point
 * (which a config imports for `defineConfig`) and every other command do without it.
 */
export const openChokidarWatcher: OpenWatcher = async (options) => {
  const { watch: chokidarWatch } = await import('chokidar');
  const { root, scope } = options;
  const rel = (path: string): string => toPosix(relative(root, path));
  const watcher = chokidarWatch(
    scope.roots.map((r) => (r === '' ? root : join(root, r))),
    {
      ignoreInitial: true,
      // The debounce of the rerun policy already waits for writes to settle.
      awaitWriteFinish: false,
      // Called with the path alone first, then with its stats: skip what cannot matter.
      ignored: (path: string, stats?: Stats) => {
        const p = rel(path);
        if (p === '' || p.startsWith('..')) return false;
        if (stats === undefined) return !scope.mayContain(p) && !scope.isRelevantFile(p);
        return stats.isDirectory() ? !scope.mayContain(p) : !scope.isRelevantFile(p);
      },
    },
  );
  const report = (kind: FileChangeKind) => (path: string) => {
    const p = rel(path);
    if (scope.isRelevantFile(p)) options.onChange(p, kind);
  };
  watcher.on('add', report('add'));
  watcher.on('change', report('change'));
  watcher.on('unlink', report('unlink'));
  const onStir = options.onStir;
  if (onStir !== undefined) {
    watcher.on('raw', (_event: string, name: unknown, details: unknown) => {
      const dir = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
      if (typeof dir !== 'string') return;
      const p = rel(typeof name === 'string' && name !== '' ? join(dir, name) : dir);
      if (scope.isRelevantFile(p)) onStir(p);
    });
  }
  watcher.on('error', (error: unknown) => options.onError(error instanceof Error ? error : new Error(String(error))));
  return new Promise((resolve) => {
    watcher.once('ready', () => resolve({ close: () => watcher.close() }));
  });
};

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}
