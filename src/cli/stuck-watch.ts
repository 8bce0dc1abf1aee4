/**
 * The last resort against a function task or custom check that never yields the thread
 * (`for (;;) {}`, or hours of synchronous work): its timeout is a timer on the thread it holds,
 * and so is Ctrl-C's handler, so runcue would hang until killed from outside. A second thread,
 * started with the first attempt or check that has a timeout, is told each one's deadline (a
 * function's timeout plus the grace an abandoned function gets; a check's `checkTimeout`) and
 * watches a heartbeat the main thread writes while one runs. When one is past its deadline and
 * the heartbeat has stopped, the thread pauses the main one through the inspector to see whose
 * code holds it: a user's in two looks (or native code no pause can reach, such as a synchronous
 * child process) ends runcue as kill -9 would, after saying why on stderr. Nothing is lost that way: commands die with runcue, and every unit
 * that was running is recorded in flight, so the next run runs it again. runcue's own code (a
 * long planning pass) is left alone.
 *
 * Why not stop only the function: terminating the main thread's JavaScript (inspector
 * `Runtime.terminateExecution`) also drops every promise callback queued behind it, runcue's
 * among them, and a run that lost one could hang or lie; an exit cannot.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import type { StuckWatch } from '../runner/execute/function-executor.ts';

/** How often the main thread writes the heartbeat while an armed function or check runs. */
const BEAT_MS = 100;

/**
 * The watching thread, as source that runs as a script or a module alike: a file of its own
 * would need a loader path in the bundle, and this is small. workerData: `beat` (an Int32Array's
 * buffer: ms since `base` of the last beat), `base`, `own` (path and URL prefixes of runcue's
 * own code).
 */
const WATCHER = `
const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
const { writeSync } = process.getBuiltinModule('node:fs');
const beat = new Int32Array(workerData.beat);
const { base, own } = workerData;
// Without a beat this long, the main thread is held, not busy between two beats.
const HELD_MS = 1000;
// A pause that does not land by then: native code holds the thread (a synchronous child process).
const PAUSE_WAIT_MS = 2000;
const armed = new Map();
parentPort.on('message', (m) => (m.unit === undefined ? armed.delete(m.id) : armed.set(m.id, m)));
let looking = false;
// The hold the last look found the user's code on top of, if any: one look can land on a user's
// frame just as runcue's own long work returns to it, so it takes two looks at the same hold.
let suspect;
setInterval(() => {
  if (looking) return;
  const now = Date.now();
  let late;
  for (const a of armed.values()) if (now > a.deadline && (late === undefined || a.deadline < late.deadline)) late = a;
  const lastBeat = Atomics.load(beat, 0);
  if (late === undefined || now - (base + lastBeat) < HELD_MS) return;
  looking = true;
  // Still held: no beat since, and the attempt not over (the thread may come free meanwhile).
  const held = () => Atomics.load(beat, 0) === lastBeat && armed.has(late.id);
  whoHolds(held, (user) => {
    looking = false;
    const again = suspect !== undefined && suspect.id === late.id && suspect.beat === lastBeat;
    suspect = user && held() ? { id: late.id, beat: lastBeat } : undefined;
    if (suspect && again) end(late, Date.now() - (base + lastBeat));
  });
}, 250);

function whoHolds(held, answer) {
  let session;
  try {
    session = new (process.getBuiltinModule('node:inspector').Session)();
    session.connectToMainThread();
  } catch {
    return answer(true);
  }
  const urls = new Map();
  let answered = false;
  const finish = (user) => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    try {
      session.post('Debugger.resume');
      session.post('Debugger.disable');
      session.disconnect();
    } catch {}
    answer(user);
  };
  const timer = setTimeout(() => finish(held()), PAUSE_WAIT_MS);
  session.on('Debugger.scriptParsed', (m) => urls.set(m.params.scriptId, m.params.url));
  session.on('Debugger.paused', (m) => {
    const top = m.params.callFrames.map((f) => urls.get(f.location.scriptId) ?? '').find((url) => !url.startsWith('node:'));
    finish(top !== undefined && !own.some((prefix) => top.startsWith(prefix)));
  });
  session.post('Debugger.enable', () => session.post('Debugger.pause'));
}

function end(late, heldMs) {
  writeSync(
    2,
    '\\nruncue: ' + late.unit + ': its ' + late.what + ' has held the JavaScript thread for ' + (heldMs / 1000).toFixed(1) +
      ' s, past its timeout (' + late.timeoutMs + ' ms): code that never awaits cannot be stopped by a timeout or Ctrl-C.' +
      ' runcue ends here as if killed (kill -9, exit 137); its commands end with it, and this unit and every other that was running will run again on the next build.\\n',
  );
  process.kill(process.pid, 'SIGKILL');
}
`;

/** A {@link StuckWatch} whose thread starts with the first armed function or check; `dispose` ends it. */
export function createStuckWatch(): StuckWatch & { dispose(): Promise<void> } {
  let worker: Worker | undefined;
  let beating: NodeJS.Timeout | undefined;
  const beat = new Int32Array(new SharedArrayBuffer(4));
  const base = Date.now();
  let armed = 0;
  let next = 0;
  const stamp = (): void => void Atomics.store(beat, 0, Date.now() - base);
  const start = (): Worker => {
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    const root = fileURLToPath(new URL('../..', import.meta.url));
    // Scripts are named by path (the engine script) or by URL (modules), which escapes some characters.
    const own = [`${root}dist/`, `${root}src/`].flatMap((dir) => [dir, pathToFileURL(dir).href]);
    // None of runcue's flags (an --input-type=module would make this source a module, a -r preload run in it).
    const started = new Worker(WATCHER, { eval: true, execArgv: [], workerData: { beat: beat.buffer, base, own } });
    // It watches; it must not keep runcue alive, nor its errors end runcue.
    started.unref();
    started.on('error', () => undefined);
    return started;
  };
  return {
    arm(unit, what, timeoutMs, deadline) {
      worker ??= start();
      const id = ++next;
      stamp();
      worker.postMessage({ id, unit, what, timeoutMs, deadline });
      if (armed++ === 0) {
        beating = setInterval(stamp, BEAT_MS);
        beating.unref();
      }
      let over = false;
      return () => {
        if (over) return;
        over = true;
        worker?.postMessage({ id });
        if (--armed === 0) clearInterval(beating);
      };
    },
    // Awaited: a thread still ending would keep runcue from exiting the moment it is done (main.ts).
    async dispose() {
      clearInterval(beating);
      const ending = worker;
      worker = undefined;
      await ending?.terminate();
    },
  };
}
