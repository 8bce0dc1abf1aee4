/**
 * The start gate: a service's `rate` over every worker together, held in Redis on Redis's clock.
 * BullMQ's limiter is a fixed window and a worker picks a job up some time after the limiter
 * lets it, so pacing with it used only 81-91% of a rate. Here a worker that has a job first
 * reserves a start slot (slots are exactly window/N apart, handed out atomically), sleeps until
 * then, and starts only when a second, atomic check of the last starts of every rate (a sliding
 * window log, on Redis's `TIME`) admits it: a timer that fires late never lets two starts bunch
 * into one window, and the start recorded is the moment Redis admitted it, when the unit starts.
 * A rate of a `scope: 'host'` service has keys of its own per host: it holds per machine.
 */
import type { Redis } from 'ioredis';
import type { ResolvedConfig, ResolvedTask } from '../../config/resolved.ts';
import { QUEUE_PREFIX } from './names.ts';
import { timerMs } from '../ports.ts';

/** One rate the gate holds a start to, with its Redis keys. */
export interface GateRate {
  readonly count: number;
  readonly windowMs: number;
  /** The next free slot (µs, Redis clock). */
  readonly nextKey: string;
  /** The starts of the last window (a sorted set, scored in µs). */
  readonly logKey: string;
}

/**
 * The gate holds each window a little longer than the service's: 1% of it, at least 5 ms.
 * Between Redis admitting a start and the unit really starting lie the reply's way back and the
 * attempt's preparation, a few ms that vary with the machine's load. With this slack the real
 * starts keep to N per window as long as that delay varies by less than the slack (10 ms of a
 * second), for 1% of the rate.
 */
function slackMs(windowMs: number): number {
  return Math.max(5, windowMs * 0.01);
}

/**
 * An admission whose reply took longer than the slack (the process was descheduled, its event
 * loop busy) would start late, out of step with the log: it is given back and asked for again,
 * at most this many times in a row (then a machine this slow starts anyway).
 */
const MAX_LATE_ADMISSIONS = 3;

// KEYS: per rate, its next-slot key and its log key. ARGV: 'reserve', 'start' or 'cancel' (an
// admission given back: its log entry, `token:time`, goes), a token, then
// per rate its count and window (µs). Numbers are formatted by hand: Lua's tostring rounds them.
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = #KEYS / 2
local function f(x) return string.format('%.0f', x) end
if ARGV[1] == 'reserve' then
  local slot = now
  for i = 1, n do
    local nx = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
    if nx > slot then slot = nx end
  end
  for i = 1, n do
    local count = tonumber(ARGV[2 * i + 1])
    local win = tonumber(ARGV[2 * i + 2])
    local nx = slot + math.ceil(win / count)
    redis.call('SET', KEYS[2 * i - 1], f(nx), 'PX', math.ceil((nx - now + win) / 1000) + 1000)
  end
  return { f(slot), f(now) }
end
if ARGV[1] == 'cancel' then
  for i = 1, n do redis.call('ZREM', KEYS[2 * i], ARGV[2]) end
  return { '1', '0' }
end
local wait = 0
for i = 1, n do
  local count = tonumber(ARGV[2 * i + 1])
  local win = tonumber(ARGV[2 * i + 2])
  redis.call('ZREMRANGEBYSCORE', KEYS[2 * i], '-inf', f(now - win))
  if redis.call('ZCARD', KEYS[2 * i]) >= count then
    local oldest = redis.call('ZRANGE', KEYS[2 * i], 0, 0, 'WITHSCORES')
    local w = tonumber(oldest[2]) + win - now
    if w > wait then wait = w end
  end
end
if wait > 0 then return { '0', f(wait) } end
for i = 1, n do
  local win = tonumber(ARGV[2 * i + 2])
  redis.call('ZADD', KEYS[2 * i], f(now), ARGV[2] .. ':' .. f(now))
  redis.call('PEXPIRE', KEYS[2 * i], math.ceil(win / 1000) + 1000)
end
return { '1', f(now) }
`;

/** The rates a unit of `task` must pass on `host`: every rate of every service it uses. */
export function gateRatesOf(task: ResolvedTask, config: ResolvedConfig, host: string): GateRate[] {
  const rates: GateRate[] = [];
  for (const name of [...new Set(task.uses)].sort()) {
    const service = config.services.get(name);
    if (!service) continue;
    const owner = service.scope === 'host' ? `${name}@${host}` : name;
    for (const { count, windowMs } of service.rates) {
      const base = `${QUEUE_PREFIX}:gate:${owner}:${count}/${windowMs}`;
      rates.push({ count, windowMs, nextKey: `${base}:next`, logKey: `${base}:log` });
    }
  }
  return rates;
}

/** Passes starts through the gate of one Redis. */
export class StartGate {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
  }

  /**
   * Waits until a start is admitted under every rate: resolves to the start time (ms, Redis's
   * clock), or undefined when `signal` aborts first. No rates: now, without asking Redis.
   */
  async pass(rates: readonly GateRate[], token: string, signal: AbortSignal): Promise<number | undefined> {
    if (rates.length === 0) return Date.now();
    const lateMs = Math.min(...rates.map((r) => slackMs(r.windowMs)));
    const [slot, now] = await this.call('reserve', rates, token);
    let waitUs = slot - now;
    for (let late = 0; ;) {
      if (waitUs > 0 && !(await sleep(Math.ceil(waitUs / 1000), signal))) return undefined;
      if (signal.aborted) return undefined;
      const asked = Date.now();
      const [admitted, value] = await this.call('start', rates, token);
      waitUs = admitted === 1 ? 0 : value;
      if (admitted !== 1) continue;
      if (Date.now() - asked <= lateMs || ++late > MAX_LATE_ADMISSIONS) return Math.floor(value / 1000);
      await this.call('cancel', rates, `${token}:${value}`);
    }
  }

  private async call(mode: 'reserve' | 'start' | 'cancel', rates: readonly GateRate[], token: string): Promise<[number, number]> {
    const keys = rates.flatMap((r) => [r.nextKey, r.logKey]);
    const args = rates.flatMap((r) => [String(r.count), String(Math.ceil((r.windowMs + slackMs(r.windowMs)) * 1000))]);
    const reply = (await this.redis.eval(SCRIPT, keys.length, ...keys, mode, token, ...args)) as [string, string];
    return [Number(reply[0]), Number(reply[1])];
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, timerMs(ms));
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
