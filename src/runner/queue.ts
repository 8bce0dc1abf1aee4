/**
 * Stale units waiting for service slots. Units that use the same services form one FIFO lane
 * ordered by priority; admission only ever looks at lane heads, so a full service costs one
 * check per pump, not one per waiting unit (10,000 queued units stay linear).
 */
interface Entry {
  readonly id: string;
  readonly priority: number;
  readonly seq: number;
}

interface Lane {
  readonly services: readonly string[];
  readonly entries: Entry[];
  head: number;
}

export class RunQueue {
  private readonly lanes = new Map<string, Lane>();
  /** The same lanes in an array (never removed): drained by index, no iterator per pump. */
  private readonly laneList: Lane[] = [];
  private seq = 0;
  private count = 0;
  /** The lane last pushed to, by its services (a task's units share one array): no key to join and look up per push. */
  private lastServices: readonly string[] | undefined;
  private lastLane: Lane | undefined;

  get size(): number {
    return this.count;
  }

  push(id: string, services: readonly string[], priority: number): void {
    const lane = services === this.lastServices && this.lastLane ? this.lastLane : this.laneOf(services);
    const entry = { id, priority, seq: this.seq++ };
    const last = lane.entries.at(-1);
    if (!last || lane.entries.length === lane.head || last.priority >= priority) {
      lane.entries.push(entry);
    } else {
      // Higher priority than the tail: insert after the last entry with priority >= its own.
      let i = lane.entries.length;
      while (i > lane.head && (lane.entries[i - 1]?.priority ?? 0) < priority) i--;
      lane.entries.splice(i, 0, entry);
    }
    this.count++;
  }

  private laneOf(services: readonly string[]): Lane {
    const key = services.join('\u0000');
    let lane = this.lanes.get(key);
    if (!lane) {
      this.lanes.set(key, (lane = { services, entries: [], head: 0 }));
      this.laneList.push(lane);
    }
    this.lastServices = services;
    this.lastLane = lane;
    return lane;
  }

  /** Whether a unit queued for exactly `services`, at `priority` or higher, waits (a lane is sorted by priority). */
  holdsAhead(services: readonly string[], priority: number): boolean {
    const lane = this.lanes.get(services.join('\u0000'));
    const head = lane?.entries[lane.head];
    return head !== undefined && head.priority >= priority;
  }

  /**
   * Offers the best lane head (highest priority, then first come) to `admit`, again and again,
   * until every lane is empty or refused in this drain. Always taking the best head across lanes
   * keeps priority and arrival order between lanes that share a service.
   */
  drain(admit: (id: string, services: readonly string[]) => boolean): void {
    const lanes = this.laneList;
    if (lanes.length === 1) this.drainOne(lanes[0] as Lane, admit);
    else this.drainAll(admit);
    // Popping moves a head index; drop the popped prefix once it is most of the array.
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[i] as Lane;
      if (lane.head > 1024 && lane.head * 2 > lane.entries.length) {
        lane.entries.splice(0, lane.head);
        lane.head = 0;
      }
    }
  }

  /** {@link drain} of the only lane (one service, most configs): no list of open lanes per pump. */
  private drainOne(lane: Lane, admit: (id: string, services: readonly string[]) => boolean): void {
    for (let entry = lane.entries[lane.head]; entry && admit(entry.id, lane.services); entry = lane.entries[lane.head]) {
      lane.head++;
      this.count--;
    }
  }

  private drainAll(admit: (id: string, services: readonly string[]) => boolean): void {
    const open = this.laneList.filter((l) => l.head < l.entries.length);
    while (open.length > 0) {
      let best = 0;
      for (let i = 1; i < open.length; i++) {
        const a = open[i];
        const b = open[best];
        if (a && b && compare(a.entries[a.head], b.entries[b.head]) < 0) best = i;
      }
      const lane = open[best];
      const entry = lane?.entries[lane.head];
      if (!lane || !entry) break;
      if (!admit(entry.id, lane.services)) {
        open.splice(best, 1);
        continue;
      }
      lane.head++;
      this.count--;
      if (lane.head === lane.entries.length) open.splice(best, 1);
    }
  }
}

function compare(a: Entry | undefined, b: Entry | undefined): number {
  if (!a || !b) return 0;
  return b.priority - a.priority || a.seq - b.seq;
}
