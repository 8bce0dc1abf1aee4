#!/usr/bin/env node
// Entry point. Kept tiny: check the Node version, turn on the module compile cache (it roughly
// halves the cost of loading our dependencies), then load the CLI.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 22)) {
  process.stderr.write(`runcue needs Node.js >= 22.22 (this is ${process.versions.node})\n`);
  process.exit(2);
}
// getBuiltinModule, not import: the ES module facade of node:module loads more than it needs.
process.getBuiltinModule('node:module').enableCompileCache?.();
const { main } = await import('../dist/cli/main.js');
await main(process.argv);
