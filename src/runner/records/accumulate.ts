/**
 * Builds a run record from the runner's events, as they come. Pure: no clock, no files; the
 * caller feeds it events and asks for the record at `run:done` (or, cut short, at any time).
 */
import type { RunEvent, StaleReason, UnitFailure } from '../events.ts';
import {
  RECORD_VERSION,
  TAIL_LIMIT,
  TAILS_KEPT,
  TEXT_LIMIT,
  type RunRecord,
  type RunStatus,
  type Span,
  type UnitOutcome,
  type UnitRecord,
} from './record.ts';
import { ServiceUse } from './service-use.ts';

/** What the events do not say: the record's id, the command and its targets. */
export interface RecordContext {
  readonly id: string;
  readonly command: 'build' | 'watch';
  readonly targets: readonly string[];
  readonly cycle?: number;
  readonly trigger?: string;
  /** The exit code a run that ended this way gives. */
  readonly exitCode: (status: RunStatus, interrupted: string | undefined) => number;
  /**
   * False: fresh units are counted, not listed (`fresh` stays empty). Only a JUnit file reads the
   * list, and a no-op build of 100,000 units would keep an entry for each. Default true.
   */
  readonly listFresh?: boolean;
}

/** A unit fresh in the run: counted in the record, listed only for JUnit files. */
export interface FreshUnit {
  readonly unit: string;
  readonly task: string;
}

/** Feeds on events; `record()` at any time gives the run so far (status `incomplete` before `run:done`). */
export interface RecordAccumulator {
  onEvent(event: RunEvent): void;
  /** `run:start` was seen: there is a run to record. */
  readonly started: boolean;
  /** `run:done` was seen. */
  readonly done: boolean;
  /** The record; `now` ends a run cut short (and any unit still running). */
  record(now: number): RunRecord;
  readonly fresh: readonly FreshUnit[];
}

/** The fields of a unit's record that it may lack, numbered for {@link UnitState.order}. */
const REASON = 1;
const START = 2;
const COMMAND = 3;
const END = 4;
const FAILURE = 5;
const EXIT_CODE = 6;
const OUTPUT_TAIL = 7;
const BLOCKED = 8;
const WORKER = 9;
type Field = typeof REASON | typeof START | typeof COMMAND | typeof END | typeof FAILURE;
type LaterField = typeof EXIT_CODE | typeof OUTPUT_TAIL | typeof BLOCKED | typeof WORKER;

/**
 * A unit as the events tell it. Every field is there from the start (one shape for every unit,
 * nothing added later); the record lists the optional ones in the order the events first set
 * them, which `order` keeps: one base-16 digit per field, the first set lowest.
 */
class UnitState {
  readonly unit: string;
  readonly task: string;
  outcome: UnitOutcome = 'running';
  attempts = 0;
  pushBacks = 0;
  reason: StaleReason | undefined = undefined;
  start: number | undefined = undefined;
  end: number | undefined = undefined;
  spans: Span[] = NO_SPANS;
  runningSince: number | undefined = undefined;
  failure: UnitFailure | undefined = undefined;
  exitCode: number | undefined = undefined;
  command: string | undefined = undefined;
  outputTail: string | undefined = undefined;
  blocked: string | undefined = undefined;
  worker: number | undefined = undefined;
  order = 0;
  private fields = 0;

  constructor(unit: string, task: string) {
    this.unit = unit;
    this.task = task;
  }

  /** `field` has a value now: the first time, it takes the next place in the record. */
  set(field: Field | LaterField): void {
    const bit = 1 << field;
    if ((this.fields & bit) !== 0) return;
    this.order += field * 16 ** this.placed();
    this.fields |= bit;
  }

  private placed(): number {
    let n = 0;
    for (let bits = this.fields; bits !== 0; bits &= bits - 1) n++;
    return n;
  }
}

type Done = Extract<RunEvent, { type: 'run:done' }>;

/** An accumulator for one run (one build, or one watch cycle). */
export function createRecordAccumulator(context: RecordContext): RecordAccumulator {
  return new Accumulator(context);
}

class Accumulator implements RecordAccumulator {
  private readonly context: RecordContext;
  private readonly units = new Map<string, UnitState>();
  private services = new ServiceUse({});
  private uses: Readonly<Record<string, readonly string[]>> = {};
  private tasks: Readonly<Record<string, number>> = {};
  private startedAt = 0;
  private last: Done | undefined;
  private tailsKept = 0;
  private tailsOmitted = 0;
  readonly fresh: FreshUnit[] = [];
  private freshCount = 0;
  private readonly listFresh: boolean;
  started = false;

  constructor(context: RecordContext) {
    this.context = context;
    this.listFresh = context.listFresh ?? true;
  }

  get done(): boolean {
    return this.last !== undefined;
  }

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case 'run:start':
        this.started = true;
        this.startedAt = event.time;
        this.tasks = event.tasks;
        this.uses = event.uses ?? {};
        this.services = new ServiceUse(event.services);
        return;
      case 'plan:update':
        this.tasks = event.tasks;
        return;
      case 'unit:start': {
        const state = this.unit(event.task, event.unit);
        if (state.reason === undefined && event.reason !== undefined) {
          state.reason = event.reason;
          state.set(REASON);
        }
        if (state.start === undefined) {
          state.start = event.time;
          state.set(START);
        }
        state.attempts = Math.max(state.attempts, event.attempt);
        state.runningSince = event.time;
        state.outcome = 'running';
        if (event.command !== undefined) {
          state.command = capped(event.command);
          state.set(COMMAND);
        }
        this.services.started(this.usesOf(event.task), event.time);
        return;
      }
      case 'unit:done':
        this.endAttempt(this.unit(event.task, event.unit), event.time).outcome = 'built';
        return;
      case 'unit:retry': {
        const state = this.endAttempt(this.unit(event.task, event.unit), event.time);
        if (event.kind === 'push-back') {
          state.pushBacks++;
          this.services.pushedBack(event.services ?? this.usesOf(event.task));
        }
        return;
      }
      case 'unit:fail':
        this.failed(event);
        return;
      case 'unit:blocked': {
        const state = this.unit(event.task, event.unit);
        state.outcome = 'blocked';
        state.blocked = capped(event.reason.message);
        state.set(BLOCKED);
        return;
      }
      case 'unit:skip':
        this.freshCount++;
        if (this.listFresh) this.fresh.push({ unit: event.unit, task: event.task });
        return;
      case 'run:done':
        this.last = event;
        return;
      case 'worker:busy': {
        const state = this.unit(event.task, event.unit);
        state.worker = event.worker;
        state.set(WORKER);
        return;
      }
      default:
        // Live output, stalls and the rest of a worker's life say nothing the record keeps.
        return;
    }
  }

  record(now: number): RunRecord {
    const last = this.last;
    const endedAt = last?.time ?? now;
    // forEach, not for-of: once over 10,000s of units, no iterator result per unit.
    this.units.forEach((state) => {
      if (state.runningSince === undefined) return;
      state.end = endedAt;
      state.set(END);
    });
    const status: RunStatus =
      last === undefined ? 'incomplete' : last.ok ? 'ok' : last.interrupted !== undefined ? 'interrupted' : 'failed';
    const { context } = this;
    return {
      version: RECORD_VERSION,
      id: context.id,
      command: context.command,
      targets: context.targets,
      ...(context.cycle !== undefined ? { cycle: context.cycle } : {}),
      ...(context.trigger !== undefined ? { trigger: context.trigger } : {}),
      startedAt: this.startedAt,
      endedAt,
      durationMs: last?.durationMs ?? Math.max(0, endedAt - this.startedAt),
      status,
      ...(last?.interrupted !== undefined ? { interrupted: last.interrupted } : {}),
      exitCode: context.exitCode(status, last?.interrupted),
      counts: last ? countsOf(last) : this.countsSoFar(),
      tasks: this.tasks,
      services: this.services.records(),
      uses: Object.fromEntries(Object.keys(this.tasks).map((task) => [task, this.usesOf(task)])),
      units: [...this.units.values()].map((state) => unitRecord(state)),
      ...(this.tailsOmitted > 0 ? { tailsOmitted: this.tailsOmitted } : {}),
    };
  }

  private failed(event: Extract<RunEvent, { type: 'unit:fail' }>): void {
    const state = this.unit(event.task, event.unit);
    if (state.runningSince !== undefined) this.endAttempt(state, event.time);
    state.attempts = Math.max(state.attempts, event.attempt);
    state.outcome = event.error.reason === 'aborted' ? 'interrupted' : 'failed';
    state.failure = event.error;
    state.set(FAILURE);
    const { error } = event;
    if ((error.reason === 'exit-non-zero' || error.reason === 'input-removed') && error.exitCode !== undefined) {
      state.exitCode = error.exitCode;
      state.set(EXIT_CODE);
    }
    if (event.command !== undefined) {
      state.command = capped(event.command);
      state.set(COMMAND);
    }
    if (event.outputTail === '') return;
    if (this.tailsKept < TAILS_KEPT) {
      this.tailsKept++;
      state.outputTail = event.outputTail.length > TAIL_LIMIT ? event.outputTail.slice(-TAIL_LIMIT) : event.outputTail;
      state.set(OUTPUT_TAIL);
    } else {
      this.tailsOmitted++;
    }
  }

  private unit(task: string, unit: string): UnitState {
    let state = this.units.get(unit);
    if (state === undefined) {
      state = new UnitState(unit, task);
      this.units.set(unit, state);
    }
    return state;
  }

  private endAttempt(state: UnitState, time: number): UnitState {
    if (state.runningSince !== undefined) {
      // A new one-element array for the first span (most units have one): a push onto an empty
      // array reserves room for 16, kept for the whole run. (NO_SPANS is shared: never pushed to.)
      if (state.spans.length === 0) state.spans = [[state.runningSince, time]];
      else state.spans.push([state.runningSince, time]);
      state.runningSince = undefined;
      this.services.ended(this.usesOf(state.task));
    }
    state.end = time;
    state.set(END);
    return state;
  }

  private usesOf(task: string): readonly string[] {
    return this.uses[task] ?? ['cpu'];
  }

  private countsSoFar(): RunRecord['counts'] {
    const count = (outcome: UnitOutcome): number => [...this.units.values()].filter((u) => u.outcome === outcome).length;
    const interrupted = count('interrupted');
    return {
      built: count('built'),
      fresh: this.freshCount,
      failed: count('failed'),
      blocked: count('blocked'),
      ...(interrupted > 0 ? { interrupted } : {}),
    };
  }
}

function countsOf(done: Done): RunRecord['counts'] {
  return {
    ...done.counts,
    ...(done.notStarted !== undefined ? { notStarted: done.notStarted } : {}),
    ...(done.pushBacks !== undefined ? { pushBacks: done.pushBacks } : {}),
  };
}

function unitRecord(state: UnitState): UnitRecord {
  const { runningSince, spans } = state;
  const closed: Span[] = runningSince === undefined || state.end === undefined ? spans : [...spans, [runningSince, state.end]];
  // An index loop: a destructured callback per span allocated per unit before the optimiser stepped in.
  let durationMs = 0;
  for (let i = 0; i < closed.length; i++) {
    const span = closed[i] as Span;
    durationMs += Math.max(0, span[1] - span[0]);
  }
  const { unit, task, outcome, attempts, pushBacks } = state;
  // The usual unit, started and ended: one literal, one shape for all of them.
  if (state.order === BUILT_WITH_COMMAND) {
    const { reason, start, command, end } = state;
    return { unit, task, outcome, attempts, pushBacks, reason, start, command, end, spans: closed, durationMs };
  }
  // Otherwise the fields set, in the order they were first set, then spans and durationMs.
  const record: Record<string, unknown> = { unit, task, outcome, attempts, pushBacks };
  for (let order = state.order; order > 0; order = Math.floor(order / 16)) {
    const name = FIELD_NAMES[order % 16] ?? 'unit';
    record[name] = state[name];
  }
  record['spans'] = closed;
  record['durationMs'] = durationMs;
  return record as unknown as UnitRecord;
}

/** Each optional field's name, by its number (0 is none). */
const FIELD_NAMES = ['unit', 'reason', 'start', 'command', 'end', 'failure', 'exitCode', 'outputTail', 'blocked', 'worker'] as const;

/** The order of a unit that started with a command and ended: reason, start, command, end. */
const BUILT_WITH_COMMAND = REASON + START * 16 + COMMAND * 16 ** 2 + END * 16 ** 3;

const NO_SPANS: Span[] = [];

/** `text`, or its start and how much was left out. */
function capped(text: string): string {
  return text.length <= TEXT_LIMIT ? text : `${text.slice(0, TEXT_LIMIT)} ... (${String(text.length - TEXT_LIMIT)} more characters)`;
}
