#!/usr/bin/env node
// Emails the receipt for one charge: `node scripts/email.mjs CHARGE.json PROOF.json INTENT.json`,
// through the mail API at $MAIL_URL. Reads everything it needs from the charge's proof.
import { readFileSync } from 'node:fs';
import { apiUrl, callOnce } from './call-once.mjs';

const [chargeFile, proofFile, intentFile] = process.argv.slice(2);
if (!chargeFile || !proofFile || !intentFile) {
  process.stderr.write('usage: node scripts/email.mjs CHARGE.json PROOF.json INTENT.json\n');
  process.exit(2);
}

const charge = JSON.parse(readFileSync(chargeFile, 'utf8'));
const amount = `${(charge.amount / 100).toFixed(2)} ${charge.currency}`;
process.exitCode = await callOnce({
  url: `${apiUrl('MAIL_URL')}/emails`,
  body: { order: charge.order, to: charge.email, subject: `Receipt for order ${charge.order}: ${amount} (${charge.paymentId})` },
  intentFile,
  proofFile,
  keyPrefix: `email-${charge.order}`,
  proof: (message) => ({
    order: charge.order,
    messageId: message.id,
    to: charge.email,
    paymentId: charge.paymentId,
    sent: message.created,
  }),
});
