// The two tools under comparison, as commands to run in a workload directory.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

function firstLine(cmd, args) {
  const result = spawnSync(cmd, args, { encoding: 'utf8' });
  if (result.error || result.status !== 0) return undefined;
  return result.stdout.split('\n')[0].trim();
}

function nodeMajorMinor(version) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return major * 1000 + minor;
}

/**
 * The Node binary to run runcue with: this one when it is new enough (>= 22.22), else the
 * project's `node@24` devDependency, so `node bench/run.mjs` works under an older system Node.
 */
function findNode(repo) {
  if (nodeMajorMinor(process.version) >= 22022) return process.execPath;
  const local = path.join(repo, 'node_modules', '.bin', 'node');
  return existsSync(local) ? local : process.execPath;
}

/**
 * `{ runcue, make }`: each `{ name, version, node?, noop(), build(jobs), version() }` returning
 * `{ cmd, args, isNode }`, or `{ name, missing }` saying why the tool cannot run here.
 */
export function findTools(repo) {
  const bin = path.join(repo, 'bin', 'runcue.js');
  const node = findNode(repo);
  const runcue = { name: 'runcue', node, nodeVersion: firstLine(node, ['--version']) };
  if (!existsSync(bin)) {
    runcue.missing = `${path.relative(repo, bin)} does not exist yet`;
  } else {
    const command = (...args) => ({ cmd: node, args: [bin, ...args], isNode: true });
    runcue.noop = () => command('build', '--reporter', 'silent');
    runcue.build = (jobs) => command('build', '--reporter', 'silent', '--jobs', String(jobs));
    runcue.startup = () => command('--version');
    runcue.version = firstLine(node, [bin, '--version']);
    if (!runcue.version) runcue.missing = `${path.relative(repo, bin)} --version failed`;
  }

  const make = { name: 'make', version: firstLine('make', ['--version']) };
  if (!make.version) {
    make.missing = 'make is not installed';
  } else {
    const command = (...args) => ({ cmd: 'make', args, isNode: false });
    make.noop = () => command('-s');
    make.build = (jobs) => command('-s', `-j${jobs}`);
    make.startup = () => command('--version');
  }
  return { runcue, make };
}
