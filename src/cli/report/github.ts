/**
 * GitHub Actions workflow commands (`::error`, `::group::`) around text runcue does not control.
 *
 * The runner takes any log line that starts with `::` after its leading whitespace as a command
 * (and the legacy `##[command]` anywhere in a line), so indenting a unit's output is no shield:
 * a tail line `::endgroup::` would end the failed unit's group early, `::error::` would add an
 * annotation, `::add-mask::` would hide text. Such a log is fenced with `::stop-commands::`.
 */
import { randomBytes } from 'node:crypto';

/** Escapes the message of a workflow command. */
export function githubData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

/** Escapes a property value (`title=...`) of a workflow command. */
export function githubProperty(text: string): string {
  return githubData(text).replaceAll(':', '%3A').replaceAll(',', '%2C');
}

/**
 * `body` as a collapsible group titled `title`; when a line of it would read as a command, the
 * runner is told to stop processing commands until a token no line holds.
 */
export function githubGroup(title: string, body: readonly string[]): string[] {
  if (!body.some(readsAsCommand)) return [`::group::${title}`, ...body, '::endgroup::'];
  let token = resumeToken();
  while (body.some((line) => line.includes(token))) token = resumeToken();
  return [`::group::${title}`, `::stop-commands::${token}`, ...body, `::${token}::`, '::endgroup::'];
}

function readsAsCommand(line: string): boolean {
  return line.trimStart().startsWith('::') || line.includes('##[');
}

function resumeToken(): string {
  return `runcue-${randomBytes(8).toString('hex')}`;
}
