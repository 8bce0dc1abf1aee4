#!/usr/bin/env node
// A fake payment and mail API on 127.0.0.1 that counts what it does, for the orders example.
//
//   node scripts/fake-api.mjs [--port N] [--state FILE] [--busy N] [--delay MS] [--ignore-keys]
//
// Prints `listening on http://127.0.0.1:PORT` first, then one line per request.
//
//   POST /charges  {order, amount, currency, email}  -> 200 {id: 'pay_0001', ...}
//   POST /emails   {order, to, subject}              -> 200 {id: 'msg_0001', ...}
//   GET  /stats    -> {charges, emails, replays, throttled, byOrder: {charges: {A1001: 1}, emails: {...}}}
//   POST /config   {busy?, delayMs?}                 -> change the knobs below while running
//
// Like real payment APIs it honours an `Idempotency-Key` header: a key it has seen gets the
// stored response again (`replayed: true`) and charges nothing. Knobs:
//   --busy N       answer the next N requests 429 Too Many Requests, Retry-After: 1
//   --delay MS     record the charge, then wait MS before answering (time to hit Ctrl-C in between)
//   --ignore-keys  behave like an API without idempotency keys (every request charges)
//   --state FILE   keep counts and keys in FILE, so they survive restarts
// Node built-ins only.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    state: { type: 'string' },
    busy: { type: 'string', default: '0' },
    delay: { type: 'string', default: '0' },
    'ignore-keys': { type: 'boolean', default: false },
  },
});

const knobs = { busy: Number(args.busy), delayMs: Number(args.delay), ignoreKeys: args['ignore-keys'] };

const empty = () => ({ charges: 0, emails: 0, replays: 0, throttled: 0, byOrder: { charges: {}, emails: {} }, keys: {} });
const state = args.state && existsSync(args.state) ? { ...empty(), ...JSON.parse(readFileSync(args.state, 'utf8')) } : empty();

function save() {
  if (!args.state) return;
  writeFileSync(`${args.state}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${args.state}.tmp`, args.state);
}

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(`${JSON.stringify(body)}\n`);
}

async function readJson(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text === '' ? {} : JSON.parse(text);
}

const log = (line) => process.stdout.write(`${line}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Creates a charge or an email once per idempotency key; `kind` is `charges` or `emails`. */
async function create(kind, req, res) {
  const body = await readJson(req);
  if (knobs.busy > 0) {
    knobs.busy--;
    state.throttled++;
    save();
    log(`429 ${kind} ${body.order}`);
    send(res, 429, { error: 'too many requests' }, { 'retry-after': '1' });
    return;
  }
  const key = req.headers['idempotency-key'];
  const stored = typeof key === 'string' && !knobs.ignoreKeys ? state.keys[`${kind}:${key}`] : undefined;
  if (stored) {
    state.replays++;
    save();
    log(`replay ${stored.id} ${kind} ${body.order} (key ${key})`);
    send(res, 200, { ...stored, replayed: true });
    return;
  }
  state[kind]++;
  state.byOrder[kind][body.order] = (state.byOrder[kind][body.order] ?? 0) + 1;
  const id = `${kind === 'charges' ? 'pay' : 'msg'}_${String(state[kind]).padStart(4, '0')}`;
  const response = { id, ...body, created: new Date().toISOString() };
  if (typeof key === 'string') state.keys[`${kind}:${key}`] = response;
  save();
  log(`${kind === 'charges' ? 'charge' : 'email'} ${id} ${body.order}`);
  // The work is done and recorded; the answer may still be lost on the way back.
  if (knobs.delayMs > 0) await sleep(knobs.delayMs);
  send(res, 200, { ...response, replayed: false });
}

const server = createServer((req, res) => {
  const route = `${req.method} ${req.url}`;
  const handled =
    route === 'POST /charges'
      ? create('charges', req, res)
      : route === 'POST /emails'
        ? create('emails', req, res)
        : route === 'GET /stats'
          ? Promise.resolve(send(res, 200, { ...state, keys: undefined }))
          : route === 'POST /config'
            ? readJson(req).then((body) => {
                if (typeof body.busy === 'number') knobs.busy = body.busy;
                if (typeof body.delayMs === 'number') knobs.delayMs = body.delayMs;
                send(res, 200, knobs);
              })
            : Promise.resolve(send(res, 404, { error: `no route ${route}` }));
  handled.catch((error) => send(res, 400, { error: String(error) }));
});

server.listen(Number(args.port), '127.0.0.1', () => {
  log(`listening on http://127.0.0.1:${server.address().port}`);
});
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
