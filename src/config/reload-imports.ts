/**
 * Makes a config reload (watch) re-run the project modules the config imports, not only the
 * config file: Node caches ES modules by URL for good, so an edited `./tasks.ts` would otherwise
 * keep its first version for the life of the process, however often the config is reloaded.
 */
import { registerHooks } from 'node:module';

/** The query that gives each load of the config a new URL (`runcue.config.ts?t=3`). */
export const LOAD_PARAM = 't';

let registered = false;

/**
 * From the first call on, a relative or absolute import by a module loaded with `?t=N` resolves
 * to its file with `?t=N` too, so one load of the config imports its local modules afresh, and
 * they theirs. Packages (bare specifiers, anything under node_modules) are left alone: one
 * instance of `runcue` and its `RateLimited` class serves every load.
 */
export function reloadLocalImports(): void {
  if (registered) return;
  registered = true;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      const parent = context.parentURL;
      if (parent === undefined || !isPath(specifier) || !resolved.url.startsWith('file:')) return resolved;
      if (resolved.url.includes('/node_modules/')) return resolved;
      const load = new URL(parent).searchParams.get(LOAD_PARAM);
      if (load === null) return resolved;
      const url = new URL(resolved.url);
      url.searchParams.set(LOAD_PARAM, load);
      return { ...resolved, url: url.href };
    },
  });
}

function isPath(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/') || specifier.startsWith('file:');
}
