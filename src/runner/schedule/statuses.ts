/**
 * Each unit's status and, while it is stale, its pending record, in one mutable slot per unit:
 * a move is one table lookup and a field write, and a unit that runs costs one insert into a
 * table of 10,000s of units (a few hundred ns each), not one for its status and another for its
 * pending record.
 */
import type { Status } from './book.ts';
import type { Pending } from './context.ts';

interface Slot {
  status: Status;
  pending: Pending | undefined;
}

/** Each stale unit's pending record, from its check until it settles (kept in its status slot). */
export interface PendingTable {
  get(id: string): Pending | undefined;
  /** Only for a unit that has a status (it was just found stale). */
  set(id: string, pending: Pending): void;
  delete(id: string): void;
}

export class Statuses implements PendingTable {
  private readonly slots = new Map<string, Slot>();
  /**
   * The unit asked about last and its slot: a unit's check, start and end each ask more than
   * once in a row, and a lookup in a table of 10,000s of units is a few cache misses.
   */
  private lastId: string | undefined;
  private lastSlot: Slot | undefined;

  slot(id: string): { status: Status } | undefined {
    return this.find(id);
  }

  status(id: string): Status | undefined {
    return this.find(id)?.status;
  }

  add(id: string, status: Status): void {
    const slot: Slot = { status, pending: undefined };
    this.slots.set(id, slot);
    this.lastId = id;
    this.lastSlot = slot;
  }

  forget(id: string): void {
    this.slots.delete(id);
    if (id === this.lastId) this.lastId = this.lastSlot = undefined;
  }

  get(id: string): Pending | undefined {
    return this.find(id)?.pending;
  }

  set(id: string, pending: Pending): void {
    const slot = this.find(id);
    if (!slot) throw new Error(`internal error: unit ${id} is pending without a status`);
    slot.pending = pending;
  }

  delete(id: string): void {
    const slot = this.find(id);
    if (slot) slot.pending = undefined;
  }

  private find(id: string): Slot | undefined {
    if (id === this.lastId) return this.lastSlot;
    const slot = this.slots.get(id);
    if (slot) {
      this.lastId = id;
      this.lastSlot = slot;
    }
    return slot;
  }
}
