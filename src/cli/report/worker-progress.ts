/** What the live display shows of a task's persistent workers: how many start, wait or work. */
import type { WorkerEvent } from '../../runner/events.ts';
import type { Palette } from './format.ts';

type State = 'starting' | 'ready' | 'busy';

/** The live workers of one task, by number. */
export class WorkerProgress {
  private readonly states = new Map<number, State>();
  /** The worker each running unit is on (from worker:busy). */
  private readonly holders = new Map<string, number>();
  /** Workers that replaced one that ended while the task had work. */
  private restarts = 0;

  apply(event: WorkerEvent): void {
    switch (event.type) {
      case 'worker:start':
        this.states.set(event.worker, 'starting');
        if (event.replaces !== undefined) this.restarts++;
        return;
      case 'worker:ready':
        this.states.set(event.worker, 'ready');
        return;
      case 'worker:busy':
        this.states.set(event.worker, 'busy');
        this.holders.set(event.unit, event.worker);
        return;
      case 'worker:exit':
        this.states.delete(event.worker);
    }
  }

  /** A unit of the task stopped running: its worker waits for the next one. */
  unitEnded(unit: string): void {
    const worker = this.holders.get(unit);
    if (worker === undefined) return;
    this.holders.delete(unit);
    if (this.states.get(worker) === 'busy') this.states.set(worker, 'ready');
  }

  /** `workers 2 busy, 1 starting, 1 restarted`; '' when it has none. */
  text(palette: Palette): string {
    if (this.states.size === 0 && this.restarts === 0) return '';
    const counts: Record<State, number> = { starting: 0, ready: 0, busy: 0 };
    for (const state of this.states.values()) counts[state]++;
    const parts = (['busy', 'ready', 'starting'] as const)
      .filter((s) => counts[s] > 0)
      .map((s) => `${counts[s]} ${s === 'ready' ? 'idle' : s}`);
    if (this.restarts > 0) parts.push(palette.yellow(`${this.restarts} restarted`));
    return `workers ${parts.join(', ') || 'none'}`;
  }
}
