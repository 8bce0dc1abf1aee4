/**
 * The outputs a plan knows of (concrete paths, and the globs of dynamic producers), and from
 * them the producers of a unit's inputs: the edges of the unit graph (expand.ts).
 */
import { globsIntersect } from '../patterns/glob-intersect.ts';
import { globMatcher } from '../patterns/glob-match.ts';
import { staticBase } from '../patterns/glob-syntax.ts';
import type { OutputConflict, Unit, UnitPath } from './unit.ts';

interface DynamicOutput {
  readonly glob: string;
  readonly unit: string;
  readonly open: boolean;
  readonly isMatch: (path: string) => boolean;
}

/** The first index of a sorted array whose element is >= `key`. */
function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? '') < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const NO_DYNAMIC: readonly DynamicOutput[] = [];

/** Concrete outputs in one sorted array, so a glob's static base is a binary-searched range. */
export class OutputIndex {
  readonly byPath = new Map<string, string>();
  private sorted: string[] | undefined;
  /**
   * Dynamic (glob) outputs. `open` ones (unsettled producers, placeholders) stand for files still
   * to come and bind consumers' wildcards; settled ones only give edges (the files exist).
   */
  readonly dynamic: DynamicOutput[] = [];
  /** The same, by static base directory, so a path meets only the globs that could match it. */
  private readonly dynamicByBase = new Map<string, DynamicOutput[]>();
  private sortedBases: string[] | undefined;

  readonly conflicts: OutputConflict[] = [];

  /** `taskOf`: the task of a unit already added (to spot two tasks claiming one output). */
  addConcrete(path: string, unit: Unit, taskOf: (unit: string) => string | undefined): void {
    const owner = this.byPath.get(path);
    if (owner !== undefined && taskOf(owner) !== unit.task) this.conflicts.push({ path, units: [owner, unit.id] });
    this.byPath.set(path, unit.id);
    this.sorted = undefined;
  }

  addDynamic(glob: string, unit: string, open: boolean): void {
    const entry = { glob, unit, open, isMatch: globMatcher(glob) };
    this.dynamic.push(entry);
    const base = staticBase(glob);
    let list = this.dynamicByBase.get(base);
    if (!list) {
      this.dynamicByBase.set(base, (list = []));
      this.sortedBases = undefined;
    }
    list.push(entry);
  }

  /**
   * Dynamic outputs that could meet `path`: those whose base is an ancestor of the path's
   * directory (or of a glob's base), and for a glob also those based below its base. Without
   * this, planning 1,000 documents compared every page with every document's glob.
   */
  dynamicNear(path: string, isGlob: boolean): readonly DynamicOutput[] {
    if (this.dynamic.length === 0) return NO_DYNAMIC;
    const dir = isGlob ? staticBase(path) : path.slice(0, Math.max(0, path.lastIndexOf('/')));
    const out: DynamicOutput[] = [...(this.dynamicByBase.get('') ?? [])];
    for (let i = dir.indexOf('/'); ; i = dir.indexOf('/', i + 1)) {
      const ancestor = i === -1 ? dir : dir.slice(0, i);
      if (ancestor !== '') out.push(...(this.dynamicByBase.get(ancestor) ?? []));
      if (i === -1) break;
    }
    if (isGlob) {
      this.sortedBases ??= [...this.dynamicByBase.keys()].sort();
      const prefix = dir === '' ? '' : `${dir}/`;
      for (let i = lowerBound(this.sortedBases, prefix); i < this.sortedBases.length; i++) {
        const base = this.sortedBases[i] ?? '';
        if (!base.startsWith(prefix)) break;
        if (base !== '' && base !== dir) out.push(...(this.dynamicByBase.get(base) ?? []));
      }
    }
    return out;
  }

  /** Concrete outputs under `base` (a directory prefix, '' for all). */
  under(base: string): string[] {
    this.sorted ??= [...this.byPath.keys()].sort();
    if (base === '') return this.sorted;
    const prefix = base.endsWith('/') ? base : `${base}/`;
    const all = this.sorted;
    const out: string[] = [];
    for (let i = lowerBound(all, prefix); i < all.length && (all[i] ?? '').startsWith(prefix); i++) out.push(all[i] ?? '');
    return out;
  }
}

/** The one set of a unit that waits for nothing (most of them): no Set per unit. */
const NO_PRODUCERS: ReadonlySet<string> = new Set();

export function producersOf(unit: Unit, index: OutputIndex, units: ReadonlyMap<string, Unit>): ReadonlySet<string> {
  // No closure: this runs for every unit, and most inputs are concrete paths with one producer at most.
  let found: Set<string> | undefined;
  for (let i = 0; i < unit.inputs.length; i++) {
    const input = unit.inputs[i] as UnitPath;
    if (!input.isGlob) {
      found = withProducer(found, index.byPath.get(input.path), unit, units);
      found = withDirectoryProducers(found, input.path, index, unit, units);
      if (index.dynamic.length > 0)
        for (const d of index.dynamicNear(input.path, false)) if (d.isMatch(input.path)) found = withProducer(found, d.unit, unit, units);
      continue;
    }
    const matcher = globMatcher(input.path);
    const base = staticBase(input.path);
    found = withDirectoryProducers(withProducer(found, index.byPath.get(base), unit, units), base, index, unit, units);
    for (const path of index.under(base)) {
      if (matcher(path)) found = withProducer(found, index.byPath.get(path), unit, units);
    }
    for (const d of index.dynamicNear(input.path, true))
      if (globsIntersect(d.glob, input.path)) found = withProducer(found, d.unit, unit, units);
  }
  return found ?? NO_PRODUCERS;
}

/**
 * `found` with the producers of the directories above `path` (`site` for `site/index.html`): an
 * output may be a directory, and whatever is found inside it comes from its producer.
 */
function withDirectoryProducers(
  found: Set<string> | undefined,
  path: string,
  index: OutputIndex,
  unit: Unit,
  units: ReadonlyMap<string, Unit>,
): Set<string> | undefined {
  let result = found;
  // An index loop over the slashes: most inputs sit one or two directories deep, and none of
  // those is an output, so this is a lookup or two per input and no array.
  for (let cut = path.lastIndexOf('/'); cut > 0; cut = path.lastIndexOf('/', cut - 1)) {
    result = withProducer(result, index.byPath.get(path.slice(0, cut)), unit, units);
  }
  return result;
}

/** `found` with `id` added when it is a unit of another task (a task never waits for itself). */
function withProducer(
  found: Set<string> | undefined,
  id: string | undefined,
  unit: Unit,
  units: ReadonlyMap<string, Unit>,
): Set<string> | undefined {
  if (id === undefined || units.get(id)?.task === unit.task) return found;
  return (found ?? new Set<string>()).add(id);
}
