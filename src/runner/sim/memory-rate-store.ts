/**
 * A rate store held in memory: a rehearsal shares no window with real runs (nor they with it),
 * and `.runcue/` is never written. Starts arrive in time order on the virtual clock, so each
 * service's list stays sorted and a load is a binary search.
 */
import { ok } from '../../result.ts';
import type { RateStore } from '../rate-store.ts';

export function memoryRateStore(): RateStore {
  const starts = new Map<string, number[]>();
  return {
    exclusive: (fn) => ok(fn()),
    load(service, sinceMs) {
      const list = starts.get(service) ?? [];
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((list[mid] as number) < sinceMs) lo = mid + 1;
        else hi = mid;
      }
      return list.slice(lo);
    },
    record(service, time) {
      const list = starts.get(service) ?? [];
      if (list.length === 0) starts.set(service, list);
      let i = list.length;
      while (i > 0 && (list[i - 1] as number) > time) i--;
      list.splice(i, 0, time);
    },
  };
}
