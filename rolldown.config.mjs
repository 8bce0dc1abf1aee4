// The shipped JavaScript: src bundled into a few files so that a command resolves and compiles
// far fewer modules (tsc emits only the declarations). Each command is a lazy chunk: `--version`
// and a no-op build load little. Heavy or optional dependencies stay external and are imported
// only by the commands that use them; small ones on every path are bundled (and tree-shaken).
// The CLI runs its commands from a second build, one script with a code cache of its own
// (dist/cli/engine.cjs, see src/cli/engine-script.ts).
import { readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { defineConfig } from 'rolldown';

const BUNDLED = new Set(['commander', 'picomatch', 'valibot']);

/**
 * Node's built-in modules, as `process.getBuiltinModule()` gives them rather than as ES modules.
 * Importing `node:fs` as an ES module builds its facade, which reads every export, and some are
 * getters that load more modules (`fs.promises`, `fs.ReadStream`: streams, readline, 30 modules
 * for one import); `getBuiltinModule` returns the module object as it is. The modules in
 * `LAZY_BUILTINS` cost milliseconds to load and are needed only when a unit runs or a hash is
 * taken (a no-op build needs neither): their functions are stubs that load the module on the
 * first call. A constant or a class read from one loads it when the importing chunk does.
 */
const LAZY_BUILTINS = new Set([
  'child_process',
  'crypto',
  'fs/promises',
  'readline',
  'timers/promises',
  'v8',
  'worker_threads',
  'net',
  'stream',
]);
const BUILTIN_PREFIX = '\0builtin:';

function builtins() {
  const require = createRequire(import.meta.url);
  return {
    name: 'builtins-without-facade',
    resolveId(source) {
      const name = source.startsWith('node:') ? source.slice(5) : source;
      if (!builtinModules.includes(name)) return null;
      return { id: BUILTIN_PREFIX + name, moduleSideEffects: false };
    },
    load(id) {
      if (!id.startsWith(BUILTIN_PREFIX)) return null;
      const name = id.slice(BUILTIN_PREFIX.length);
      const lazy = LAZY_BUILTINS.has(name);
      const real = require(`node:${name}`);
      const lines = [
        // Loaded under V8's default flags, the module comes from Node's code cache (src/cli/v8-flags.ts).
        'let loaded;',
        `const get = () => process.getBuiltinModule(${JSON.stringify(`node:${name}`)});`,
        "const load = () => (loaded ??= globalThis[Symbol.for('runcue.v8-flags')]?.withDefaults(get) ?? get());",
        lazy ? 'const mod = new Proxy({}, { get: (_, key) => load()[key] });' : 'const mod = load();',
        'const pick = (key) => mod[key];',
        'const stub = (key) => function (...args) { return load()[key].apply(this, args); };',
        'export default mod;',
      ];
      for (const key of Object.keys(real)) {
        if (!/^[A-Za-z_$][\w$]*$/.test(key) || key === 'default') continue;
        const value = Object.getOwnPropertyDescriptor(real, key)?.value;
        const plainFunction =
          typeof value === 'function' &&
          !/^class\b/.test(Function.prototype.toString.call(value)) &&
          Object.getOwnPropertyNames(value.prototype ?? {}).length <= 1;
        const how = lazy && plainFunction ? 'stub' : 'pick';
        lines.push(`export const ${key} = /* @__PURE__ */ ${how}(${JSON.stringify(key)});`);
      }
      return lines.join('\n');
    },
  };
}

const SRC = `${import.meta.dirname}/src/`;

/** package.json's version, written into src/cli/version.ts, which would otherwise read it at every start. */
const DEFINE = {
  __RUNCUE_VERSION__: JSON.stringify(JSON.parse(readFileSync(`${import.meta.dirname}/package.json`, 'utf8')).version),
};
const APART = [
  /^index\.ts$/, // the library's entry: it exports watch
  /^cli\/(main|version|exit-codes|engine-script|v8-flags)\.ts$/, // main.js: --version with these alone, loading the engine
  /^cli\/report\/(tty|listr)\.ts$/, // listr2, for a terminal only
  /^(watch|worker)\//,
  /^runner\/(sim|remote)\//,
  /^cli\/commands\/(watch|sim|worker|queue-build|queue-status|init|init-template)\.ts$/,
  /^cli\/report\/sim-/,
];

/** Whether a module belongs to the chunk every command loads (see codeSplitting). */
function inEngine(id) {
  if (/[\\/]node_modules[\\/](commander|valibot|picomatch)[\\/]/.test(id)) return true;
  if (!id.startsWith(SRC)) return false;
  const rel = id.slice(SRC.length);
  return !APART.some((re) => re.test(rel));
}

/**
 * For the script build (dist/cli/engine.cjs): a package that a lazily loaded module imports
 * statically (listr2, for the terminal display only) would be required when the script starts,
 * since the script has no chunks to defer it to. Its exports become stand-ins that load it on
 * first use: a property read, a call or `new`.
 */
const LAZY_PACKAGES = new Set(['listr2']);
const LAZY_PREFIX = '\0lazy-package:';

function lazyPackages() {
  return {
    name: 'lazy-packages',
    resolveId(source) {
      return LAZY_PACKAGES.has(source) ? { id: LAZY_PREFIX + source, moduleSideEffects: false } : null;
    },
    async load(id) {
      if (!id.startsWith(LAZY_PREFIX)) return null;
      const name = id.slice(LAZY_PREFIX.length);
      const keys = Object.keys(await import(name)).filter((key) => /^[A-Za-z_$][\w$]*$/.test(key) && key !== 'default');
      const lines = [
        `let real;`,
        // Not `require(name)`: the bundler would resolve that to this very module.
        `const load = (key) => (real ??= process.getBuiltinModule('node:module').createRequire(__filename)(${JSON.stringify(name)}))[key];`,
        'const lazy = (key) => new Proxy(function () {}, {',
        '  get: (_, property) => load(key)[property],',
        '  apply: (_, self, args) => Reflect.apply(load(key), self, args),',
        '  construct: (_, args) => Reflect.construct(load(key), args),',
        '});',
      ];
      for (const key of keys) lines.push(`export const ${key} = /* @__PURE__ */ lazy(${JSON.stringify(key)});`);
      return lines.join('\n');
    },
  };
}

/**
 * For the script build: `import()` of a package or a file (the user's config, cosmiconfig...)
 * calls `__runcueImport`, which engine-script.ts passes in; a script's own `import()` needs
 * `--experimental-vm-modules`. Imports of our own modules (`./`, `../`) are bundled as before.
 */
function scriptImports() {
  return {
    name: 'script-imports',
    transform(code, id) {
      if (!id.startsWith(SRC)) return null;
      const rewritten = code.replace(/(?<!typeof\s*)\bimport\((?!\s*['"`]\.)/g, '__runcueImport(');
      return rewritten === code ? null : { code: rewritten };
    },
  };
}

const esm = defineConfig({
  plugins: [builtins()],
  transform: { define: DEFINE },
  input: {
    // bin/runcue.js
    'cli/main': 'src/cli/main.ts',
    // The package's entry points: `runcue` and `runcue/worker`.
    index: 'src/index.ts',
    'worker/serve': 'src/worker/serve.ts',
  },
  platform: 'node',
  external: (id) => {
    if (id.startsWith('node:') || id.startsWith('.') || id.startsWith('/')) return false;
    const name = id.startsWith('@') ? id.split('/').slice(0, 2).join('/') : id.split('/')[0];
    return !BUNDLED.has(name);
  },
  output: {
    dir: 'dist',
    // tsc writes the declarations next to the bundle afterwards (npm run build).
    cleanDir: true,
    format: 'esm',
    // Without comments and indentation: Node reads, hashes (for the compile cache) and keeps the
    // source of every module it loads, 10% of the engine's load time. Names are kept, for stacks.
    minify: { compress: false, mangle: false, codegen: { removeWhitespace: true, asciiOnly: true } },
    entryFileNames: '[name].js',
    chunkFileNames: 'chunks/[name]-[hash].js',
    // What nearly every command loads (commander, the program, config loading, planning, the
    // build engine and its plain reporters) is one chunk: each module file costs its own
    // resolution, read and code-cache lookup, about 1 ms apiece, and a no-op build loaded 29.
    // What few runs need stays apart: watch, sim, the queue and workers, the listr2 display.
    // main.js's own two modules (and the built-ins) are a chunk of their own, or `--version`
    // would load the engine.
    codeSplitting: {
      groups: [
        {
          name: 'start',
          priority: 2,
          test: (id) => id.startsWith(BUILTIN_PREFIX) || /[\\/]src[\\/]cli[\\/](version|exit-codes|v8-flags)\.ts$/.test(id),
        },
        { name: 'engine', priority: 1, test: (id) => inEngine(id) },
      ],
    },
  },
});

/**
 * dist/cli/engine.cjs: what every command runs, as one script that engine-script.ts compiles
 * with a code cache of its own (see there). The ES module build above stays: the package's entry
 * points, `--version`, and the commands when the script is missing.
 */
const script = defineConfig({
  plugins: [builtins(), lazyPackages(), scriptImports()],
  transform: esm.transform,
  input: { 'cli/engine': 'src/cli/engine-entry.ts' },
  platform: 'node',
  external: (id) => !LAZY_PACKAGES.has(id) && esm.external(id),
  output: {
    dir: 'dist',
    format: 'cjs',
    minify: esm.output.minify,
    entryFileNames: '[name].cjs',
    codeSplitting: false,
    // The file is the function engine-script.ts compiles (WRAPPER_HEAD there), so the source it
    // reads is the script as it is: wrapping it at run time made V8 copy all 600 KB once more.
    // After minification, so the head is exactly engine-script.ts's.
    postBanner: '(function (exports, require, module, __filename, __dirname, __runcueImport) {',
    postFooter: '\n})',
  },
});

export default [esm, script];
