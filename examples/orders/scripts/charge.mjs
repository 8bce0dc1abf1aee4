#!/usr/bin/env node
// Charges one order: `node scripts/charge.mjs ORDER.json PROOF.json INTENT.json`, against the
// payment API at $PAYMENTS_URL. The proof (with the payment id) is written only after a 200.
import { readFileSync } from 'node:fs';
import { apiUrl, callOnce } from './call-once.mjs';

const [orderFile, proofFile, intentFile] = process.argv.slice(2);
if (!orderFile || !proofFile || !intentFile) {
  process.stderr.write('usage: node scripts/charge.mjs ORDER.json PROOF.json INTENT.json\n');
  process.exit(2);
}

const order = JSON.parse(readFileSync(orderFile, 'utf8'));
process.exitCode = await callOnce({
  url: `${apiUrl('PAYMENTS_URL')}/charges`,
  body: { order: order.id, amount: order.amount, currency: order.currency, email: order.email },
  intentFile,
  proofFile,
  keyPrefix: `charge-${order.id}`,
  proof: (payment) => ({
    order: order.id,
    paymentId: payment.id,
    amount: order.amount,
    currency: order.currency,
    email: order.email,
    charged: payment.created,
  }),
});
