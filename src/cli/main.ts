/**
 * The composition root: the only place that reads argv and the environment, writes to the
 * terminal and sets the exit code. One error boundary for bugs; expected failures are values.
 * `--version` is answered here, before commander or any command module is loaded.
 */
import type { CliContext } from './options.ts';
import { VERSION } from './version.ts';
import { EXIT_CODES as EXIT } from './exit-codes.ts';
import { fileURLToPath } from 'node:url';
import { loadEngine } from './engine-script.ts';
import { setV8Flag, withDefaultFlags } from './v8-flags.ts';

/** Long enough for stdout and stderr to drain where writes are asynchronous (TTYs, macOS pipes). */
const LINGER_MS = 250;

/**
 * Points every method of the global console at stderr (`console.log` in a config included), and
 * `process.stdout.write` too (a function task or a library it calls may write there directly):
 * runcue's own JSON goes out through the stream this returns, which keeps the real write.
 */
function consoleToStderr(): NodeJS.WriteStream {
  const { Console } = process.getBuiltinModule('node:console');
  const toStderr = new Console({ stdout: process.stderr, stderr: process.stderr });
  const target = console as unknown as Record<string, unknown>;
  for (const [name, method] of Object.entries(toStderr)) if (typeof method === 'function') target[name] = method;
  const stdout = process.stdout;
  const realWrite = stdout.write.bind(stdout);
  stdout.write = ((...args: Parameters<typeof process.stderr.write>) => process.stderr.write(...args)) as typeof stdout.write;
  return new Proxy(stdout, {
    get(real, key) {
      if (key === 'write') return realWrite;
      const value: unknown = Reflect.get(real, key, real);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(real) : value;
    },
  });
}

/**
 * Exits as soon as nothing is left to do, once pending callbacks have run: when the event loop
 * holds nothing (no write still draining, no child, no timer), Node would end the process next
 * anyway, but only after tearing the heap down (a no-op build of 10,000 units: ~20 ms of CPU);
 * process.exit() skips that teardown. Anything still pending keeps the usual way out.
 */
function exitWhenIdle(): void {
  setImmediate(() => {
    if (process.getActiveResourcesInfo().length === 0 && process.listenerCount('beforeExit') === 0) process.exit();
  });
}

/** The V8 flags of a command (see v8-flags.ts for why they are set after the engine is loaded). */
function setFlags(command: string | undefined): void {
  // Peak memory of a no-op build of 100,000 units: a young generation that does not grow
  // (350 -> 240 MB), and an old generation that grows by half at a time rather than by V8's
  // dynamic factor (215 -> 182 MB once the graph was smaller; a few percent more CPU at that
  // size, none for small builds, whose heap never reaches the first limit).
  setV8Flag('semi-space-growth-factor', '--semi-space-growth-factor=1', '--semi-space-growth-factor=2');
  // Not for `sim`: a rehearsal keeps every unit's plan and record to its end, so its heap only
  // grows, and growing it by half at a time meant five full collections at 20,000 units instead
  // of two (~7% more CPU at 20,000 and 100,000 units; peak memory 14% lower at 100,000).
  if (command !== 'sim') setV8Flag('heap-growing-percent', '--heap-growing-percent=50', '--heap-growing-percent=0');
  // No TurboFan until work starts (optimiser.ts turns it back on): a no-op never pays its compiles.
  // None in a rehearsal at all: it is over in a second or two, and compiling its hot paths cost
  // more than they gained (single_queue, 10,000 units: 14% fewer instructions beyond a 1-unit
  // run, 1.13x wall; 50,000: 1.13x wall). Maglev still compiles them.
  if (command === 'build' || command === 'watch' || command === 'sim') setV8Flag('turbofan', '--no-turbofan', '--turbofan');
  // A rehearsal's hot code gets Maglev's code sooner without inlining: Maglev compiles on the
  // other core, and at 10,000 units its ~200 compiles (150 ms, inlining included) ended after
  // much of the run had gone by unoptimised (10,000 units 1.05-1.07x wall; 50,000 the same).
  if (command === 'sim') setV8Flag('maglev-inlining', '--no-maglev-inlining', '--maglev-inlining');
}

/** Runs runcue with `argv` (as `process.argv`: node, script, then the arguments) and sets the exit code. */
export async function main(argv: readonly string[]): Promise<void> {
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V')) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  // A reader that leaves early (`runcue plan | head -1`, `runcue graph | head`) is not an error
  // of runcue's: the rest of the output is dropped, as for any Unix tool. A run notices it too
  // and stops (see withSignals).
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  let stderr: NodeJS.WriteStream | undefined;
  // Set when the command prints JSON: stdout is then runcue's alone (see consoleToStderr).
  let jsonStdout: NodeJS.WriteStream | undefined;
  const context: CliContext = {
    cwd: process.cwd(),
    env: process.env,
    // Getters: a stream is made on first use, and a silent no-op build writes to neither (stdout
    // exists already, above). Made under V8's default flags, the modules stderr loads come from
    // Node's code cache (see v8-flags.ts).
    get stdout() {
      return jsonStdout ?? process.stdout;
    },
    get stderr() {
      return (stderr ??= withDefaultFlags(() => process.stderr));
    },
    setExitCode: (code) => {
      process.exitCode = code;
    },
    consoleToStderr: () => {
      jsonStdout ??= withDefaultFlags(consoleToStderr);
    },
  };
  const { CommanderError, createProgram } = await loadEngine(fileURLToPath(new URL('engine.cjs', import.meta.url)), argv[2]);
  setFlags(argv[2]);
  const program = createProgram(context, argv[2]);
  try {
    await program.parseAsync([...argv]);
    // The command is done. A function task or check may have left timers or sockets behind
    // (one that ignored its abort signal, say): they must not keep runcue from exiting.
    setTimeout(() => process.exit(), LINGER_MS).unref();
    exitWhenIdle();
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; any usage mistake is exit 2, as for a bad config.
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`runcue: internal error, please report it (runcue ${VERSION}, node ${process.versions.node})\n${detail}\n`);
    process.exitCode = EXIT.failed;
  }
}
