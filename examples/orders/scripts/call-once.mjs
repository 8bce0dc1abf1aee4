// Makes one side-effecting API call at most once, for charge.mjs and email.mjs.
//
// 1. Before calling, write an *intent* file holding a fresh idempotency key (or reuse the one a
//    previous, interrupted attempt left behind).
// 2. POST with that key in the `Idempotency-Key` header.
// 3. On 200, write the proof (to a temporary name, then rename, so it is whole or absent), then
//    delete the intent.
//
// If the process dies between the API doing the work and the proof being written, the intent
// survives, the next run sends the same key, and the API answers with the stored result
// instead of doing the work again. Once the proof exists the intent is gone, so deleting a
// proof on purpose makes a new key: a deliberate second charge.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** EX_TEMPFAIL: tells runcue the service pushed back (requeue, pause the service). */
const PUSH_BACK = 75;

function writeAtomic(file, text) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

function intentKey(intentFile, prefix) {
  if (existsSync(intentFile)) return JSON.parse(readFileSync(intentFile, 'utf8')).key;
  const key = `${prefix}-${randomUUID()}`;
  writeAtomic(intentFile, `${JSON.stringify({ key, created: new Date().toISOString() })}\n`);
  return key;
}

/**
 * POSTs `body` to `url` once per intent; returns the exit code for the task.
 * `proof(response)` turns the API's answer into the proof file's content.
 */
export async function callOnce({ url, body, intentFile, proofFile, keyPrefix, proof }) {
  const key = intentKey(intentFile, keyPrefix);
  let res;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify(body),
    });
  } catch (error) {
    // The request may or may not have arrived: keep the intent, a retry sends the same key.
    process.stderr.write(`${url}: ${error.cause?.message ?? error.message}\n`);
    return 1;
  }
  if (res.status === 429) {
    const retryAfter = res.headers.get('retry-after');
    const file = process.env.RUNCUE_RETRY_AFTER_FILE;
    if (retryAfter && file) writeFileSync(file, retryAfter);
    process.stderr.write(`${url}: 429 Too Many Requests (Retry-After: ${retryAfter ?? 'none'})\n`);
    return PUSH_BACK;
  }
  if (res.status !== 200) {
    process.stderr.write(`${url}: HTTP ${res.status} ${await res.text()}\n`);
    return 1;
  }
  const response = await res.json();
  writeAtomic(proofFile, `${JSON.stringify(proof(response), null, 2)}\n`);
  rmSync(intentFile, { force: true });
  process.stdout.write(`${response.replayed ? 'replayed' : 'done'}: ${response.id} (key ${key})\n`);
  return 0;
}

/** The API's base URL from the environment, or exit 2 with a hint. */
export function apiUrl(name) {
  const url = process.env[name];
  if (!url) {
    process.stderr.write(
      `${name} is not set: run the example with \`node scripts/demo.mjs\`, or start \`node scripts/fake-api.mjs\` and export ${name}\n`,
    );
    process.exit(2);
  }
  return url.replace(/\/$/, '');
}
