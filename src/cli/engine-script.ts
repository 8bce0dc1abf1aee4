/**
 * Loads everything a command runs (commander, the program, the config loader, the engine) from
 * dist/cli/engine.cjs, a script build of engine-entry.ts, with a V8 code cache of its own.
 *
 * Why: Node's module compile cache keeps only what V8 compiled before a module ran, and V8
 * compiles a function when it is first called, so the few hundred functions of a build were
 * parsed and compiled again on every run. A `vm.Script`'s cache is made when we ask for it: at
 * exit, once the command has compiled what it uses, and the next run of that command starts
 * with all of it compiled. The cache sits in Node's compile cache directory (so
 * NODE_COMPILE_CACHE and NODE_DISABLE_COMPILE_CACHE apply to it too), one file per command and
 * build of the script; writing one removes those of all but the newest other builds. Making a
 * cache costs 5-20 ms, so it is written only when there was none, V8 rejected it, or the run
 * went further than the one that wrote it (code-reach.ts: units checked where the first run had
 * none, a unit started): at most four times per command.
 * Measured with callgrind against the ES modules alone: a build with no units 222 -> 187 M
 * instructions, no-op at 10,000 units 881 -> 849 M, touch-one 1100 -> 937 M.
 * A failure to read or write it only costs the compiling it would have saved.
 */
import { withDefaultFlags } from './v8-flags.ts';

/** What main.ts takes from the engine. */
type Engine = typeof import('./engine-entry.ts');

/**
 * The script's parameters, as the CommonJS wrapper gives them plus dynamic import. The build
 * writes the script as this function (rolldown.config.mjs), so its source is compiled as read:
 * wrapped here, V8 had to copy the whole 600 KB string into one piece again before compiling.
 */
const WRAPPER_HEAD = '(function (exports, require, module, __filename, __dirname, __runcueImport) {';

/**
 * The cache file's header: the reach level in its first byte, padded to 8 bytes so that V8's
 * data after it stays 8-byte aligned (V8 copies cache data that is not, 600 KB on every run).
 */
const HEADER_BYTES = 8;

type ScriptFunction = (
  exports: object,
  require: NodeJS.Require,
  module: { exports: object },
  filename: string,
  dirname: string,
  dynamicImport: (specifier: string) => Promise<unknown>,
) => void;

/** `import()` from this module: the script's own cannot reach Node's loader without a flag. */
function dynamicImport(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ specifier);
}

function readOrUndefined(file: string): Buffer | undefined {
  try {
    return process.getBuiltinModule('node:fs').readFileSync(file);
  } catch {
    return undefined;
  }
}

/** The cache file of `command` for this build of the script, or undefined when Node's compile cache is off. */
function cacheFileFor(script: string, command: string | undefined): string | undefined {
  const dir = process.getBuiltinModule('node:module').getCompileCacheDir?.();
  if (dir === undefined) return undefined;
  const { statSync } = process.getBuiltinModule('node:fs');
  const stat = statSync(script, { bigint: true });
  // A hostile or mistyped command word names no file of its own.
  const name = command !== undefined && /^[a-z][a-z-]{0,19}$/.test(command) ? command : 'other';
  // V8 checks a cache against the source's length only: the build's mtime and inode tell builds apart.
  return `${dir}/runcue-${name}-${String(stat.size)}-${String(stat.mtimeNs)}-${String(stat.ino)}.bin`;
}

/**
 * Writes the script's cache at exit when there is none, V8 rejected it, or this run went further
 * than the one that wrote it (`reach`, a level kept in the file's first byte).
 */
function saveAtExit(script: import('node:vm').Script, file: string, cached: Buffer | undefined, reach: () => number): void {
  const written = cached === undefined || script.cachedDataRejected === true ? -1 : (cached[0] ?? 0);
  process.once('exit', () => {
    const level = reach();
    if (level <= written) return;
    try {
      // Under the flags the script was compiled with, or the next run's V8 rejects the cache.
      const data = withDefaultFlags(() => script.createCachedData());
      const { writeFileSync, renameSync } = process.getBuiltinModule('node:fs');
      const temporary = `${file}.${String(process.pid)}.tmp`;
      const header = Buffer.alloc(HEADER_BYTES);
      header[0] = level;
      writeFileSync(temporary, Buffer.concat([header, data]));
      renameSync(temporary, file);
      pruneOtherBuilds(file);
    } catch {
      // A read-only or full cache directory: the next run compiles as this one did.
    }
  });
}

/** Caches of other builds of a command that are kept: two versions used by turns keep theirs. */
const KEPT_BUILDS = 3;
/** A temporary file this old was left by a process that died while writing it. */
const STALE_TEMPORARY_MS = 3_600_000;

/**
 * Removes caches of the same command made by builds other than the newest {@link KEPT_BUILDS}
 * (by when they were written), and temporary files left behind: each build of runcue (each
 * upgrade, each `npm run build` of its own repository) writes new files, and Node never removes
 * them (one machine had 136 MB of them). Runs only when a cache was written, which is rare.
 */
function pruneOtherBuilds(file: string): void {
  const { readdirSync, statSync, unlinkSync } = process.getBuiltinModule('node:fs');
  const path = process.getBuiltinModule('node:path');
  const dir = path.dirname(file);
  const prefix = /^(runcue-[a-z-]+?)-\d+-\d+-\d+\.bin$/.exec(path.basename(file))?.[1];
  if (prefix === undefined) return;
  const others: { path: string; mtimeMs: number }[] = [];
  const now = Date.now();
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('runcue-')) continue;
    const full = path.join(dir, name);
    const stat = statSync(full, { throwIfNoEntry: false });
    if (stat === undefined) continue;
    if (name.endsWith('.tmp')) {
      if (now - stat.mtimeMs > STALE_TEMPORARY_MS) removeQuietly(unlinkSync, full);
    } else if (full !== file && name.startsWith(`${prefix}-`) && /^\d+-\d+-\d+\.bin$/.test(name.slice(prefix.length + 1))) {
      others.push({ path: full, mtimeMs: stat.mtimeMs });
    }
  }
  others.sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const old of others.slice(KEPT_BUILDS - 1)) removeQuietly(unlinkSync, old.path);
}

/** Another runcue may have removed it first. */
function removeQuietly(unlink: (path: string) => void, path: string): void {
  try {
    unlink(path);
  } catch {
    // gone already, or not ours to remove
  }
}

/**
 * Runs dist/cli/engine.cjs (`script`) from its code cache and returns its exports; falls back to
 * importing the modules when there is no such file (runcue run from src, as the tests do).
 */
export async function loadEngine(script: string, command: string | undefined): Promise<Engine> {
  const source = readOrUndefined(script);
  if (source === undefined) return import('./engine-entry.ts');
  const vm = process.getBuiltinModule('node:vm');
  const file = cacheFileFor(script, command);
  const cached = file === undefined ? undefined : readOrUndefined(file);
  // latin1: the build writes ASCII only (rolldown.config.mjs), so it decodes alike without utf8's check.
  const text = source.toString('latin1');
  const compiled = withDefaultFlags(
    () =>
      new vm.Script(text.startsWith(WRAPPER_HEAD) ? text : `${WRAPPER_HEAD}${text}\n})`, {
        filename: script,
        cachedData: cached?.subarray(HEADER_BYTES),
      }),
  );
  const module = { exports: {} as Partial<Engine> };
  if (file !== undefined) saveAtExit(compiled, file, cached, () => module.exports.codeReach?.() ?? 0);
  const run = compiled.runInThisContext() as ScriptFunction;
  const { createRequire } = process.getBuiltinModule('node:module');
  const directory = process.getBuiltinModule('node:path').dirname(script);
  // The script's top level loads the built-in modules it does not load lazily.
  withDefaultFlags(() => run(module.exports, createRequire(script), module, script, directory, dynamicImport));
  return module.exports as Engine;
}
