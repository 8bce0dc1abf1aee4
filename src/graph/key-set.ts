/**
 * The keys of a map, read as a set without copying them: with no target, a build wants every
 * unit, and a set of 10,000s of ids made from the unit table's keys was a table insert per
 * unit (and its memory kept to the end of the run) for nothing the table did not already say.
 */
export class KeySet<K> implements ReadonlySet<K> {
  private readonly map: ReadonlyMap<K, unknown>;

  constructor(map: ReadonlyMap<K, unknown>) {
    this.map = map;
  }

  get size(): number {
    return this.map.size;
  }

  has(value: K): boolean {
    return this.map.has(value);
  }

  forEach(visit: (value: K, value2: K, set: ReadonlySet<K>) => void): void {
    this.map.forEach((_, key) => visit(key, key, this));
  }

  keys(): SetIterator<K> {
    return this.map.keys();
  }

  values(): SetIterator<K> {
    return this.map.keys();
  }

  *entries(): SetIterator<[K, K]> {
    for (const key of this.map.keys()) yield [key, key];
  }

  [Symbol.iterator](): SetIterator<K> {
    return this.map.keys();
  }
}
