/**
 * runcue example: side effects that must happen once.
 *
 *   orders/{order}.json ──charge (payment API)──▶ out/proof/charges/{order}.json   the payment id
 *        out/proof/charges/{order}.json ──email (mail API)──▶ out/proof/emails/{order}.json
 *        out/proof/charges/*.json ──ledger (fan-in)──▶ out/ledger.csv
 *
 * The proofs are the record of what was done: a charge whose proof exists is never repeated.
 * (They sit under out/ only so that git ignores them here; in a real project, back them up.)
 * The APIs are a local fake (scripts/fake-api.mjs) that counts what it does; the task scripts
 * read its address from $PAYMENTS_URL and $MAIL_URL. `node scripts/demo.mjs` runs it all.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { defineConfig } from 'runcue';

// runcue hands functions paths relative to this file's directory; resolving them here keeps the
// functions independent of the directory runcue was started from.
const here = (file: string): string => path.resolve(import.meta.dirname, file);

export default defineConfig({
  services: {
    payments: { rate: '5/s', concurrent: 2 },
    mail: { rate: '10/s', concurrent: 2 },
  },
  tasks: {
    charge: {
      description: 'charge the customer for one order',
      uses: 'payments',
      input: 'orders/{order}.json',
      output: 'out/proof/charges/{order}.json',
      // The intent file holds the idempotency key while a charge is in flight (scripts/call-once.mjs).
      run: ['node', 'scripts/charge.mjs', '{input}', '{output}', 'out/proof/intents/charge-{order}.json'],
      // Make's rule would charge again whenever the order file is newer than its proof: an edit
      // of the address, a git checkout. A payment is owed once, so only a missing proof is stale.
      stale: ({ output }) => !existsSync(here(output)),
      // Safe to retry: a retry sends the same idempotency key, so the API never charges twice.
      retries: 2,
      timeout: '30s',
    },

    email: {
      description: 'email the receipt for one charge',
      uses: 'mail',
      // Make's rule is right here: a new charge (a newer proof) deserves a new receipt.
      input: 'out/proof/charges/{order}.json',
      output: 'out/proof/emails/{order}.json',
      run: ['node', 'scripts/email.mjs', '{input}', '{output}', 'out/proof/intents/email-{order}.json'],
      retries: 2,
      timeout: '30s',
    },

    // Fan-in over every charge proof: a CSV for the accountant. No side effects, so no care needed.
    ledger: {
      description: 'one line per payment',
      input: 'out/proof/charges/*.json',
      output: 'out/ledger.csv',
      run: async ({ inputs, output }, { log }) => {
        const rows = ['order,payment,amount,currency,charged'];
        for (const file of inputs) {
          const proof = JSON.parse(await readFile(here(file), 'utf8')) as Record<string, unknown>;
          rows.push([proof['order'], proof['paymentId'], proof['amount'], proof['currency'], proof['charged']].map(String).join(','));
        }
        await writeFile(here(output), `${rows.join('\n')}\n`);
        log(`${inputs.length} payments -> ${output}`);
      },
    },
  },
});
