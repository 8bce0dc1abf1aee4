// The shipped JavaScript: src bundled into a few files so that a command resolves and compiles
// far fewer modules (tsc emits only the declarations). Each command is a lazy chunk: `--version`
// and a no-op build load little. Heavy or optional dependencies stay external and are imported
// only by the commands that use them; small ones on every path are bundled (and tree-shaken).
import { defineConfig } from 'rolldown';

const BUNDLED = new Set(['commander', 'picomatch', 'valibot']);

export default defineConfig({
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
    entryFileNames: '[name].js',
    chunkFileNames: 'chunks/[name]-[hash].js',
  },
});
