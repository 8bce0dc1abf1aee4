/**
 * The README is the user's manual: every option a command's --help lists must be in it, so a flag
 * cannot be added (or renamed) without its documentation.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, REPO } from '../rig/index.ts';

const COMMANDS = ['build', 'watch', 'plan', 'why', 'list', 'graph', 'clean', 'touch', 'report', 'sim', 'worker', 'init', 'queue status'];

/** The long options of one command's --help (`--dry-run` from `  -n, --dry-run  ...`), without --help. */
function longOptions(command: string): string[] {
  const help = execFileSync(process.execPath, [BIN, ...command.split(' '), '--help'], { encoding: 'utf8' });
  return [...help.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((match) => match[1] ?? '').filter((flag) => flag !== '--help');
}

describe('README.md', () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');

  it('lists every command of runcue --help in its CLI reference, and this test checks each', () => {
    const help = execFileSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
    const commands = [...help.matchAll(/^ {2}([a-z]+) /gm)].map((match) => match[1] ?? '').filter((name) => name !== 'help');
    expect(commands.length).toBeGreaterThan(0);
    for (const name of commands) {
      expect(
        COMMANDS.some((command) => command.split(' ')[0] === name),
        name,
      ).toBe(true);
      expect(readme, name).toMatch(new RegExp(`^runcue ${name} `, 'm'));
    }
  });

  it.each(COMMANDS)('documents every option of runcue %s --help', (command) => {
    const options = longOptions(command);
    expect(options.length).toBeGreaterThan(0);
    const missing = options.filter((flag) => !new RegExp(`${flag}(?![a-z-])`).test(readme));
    expect(missing).toEqual([]);
  });
});
