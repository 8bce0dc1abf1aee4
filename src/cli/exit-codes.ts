/**
 * runcue's exit codes, in a module of their own so that `runcue --version` and `--help` load no
 * config loader or engine module. 129, 130 and 143 are 128 + the signal's number, as shells
 * report a command killed by it; 141 is SIGPIPE's (a closed stdout).
 */
/** Exit codes by meaning: `ok`, `failed` (a unit failed or was blocked), `usage` (bad config or arguments), and the signals'. */
export const EXIT_CODES = { ok: 0, failed: 1, usage: 2, sighup: 129, sigint: 130, sigpipe: 141, sigterm: 143 } as const;
