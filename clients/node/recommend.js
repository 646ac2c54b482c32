#!/usr/bin/env node
// Asks an affinity server for recommendations (Recommend) or similar items
// (SimilarItems) and prints them:
//
//   node recommend.js --server=127.0.0.1:50051 --user=alice --k=5 [--recent=m7:1,m9:2]
//   node recommend.js --item=m4 --k=5
//   (either with [--tls_ca=CA.pem] [--tls_cert=CERT.pem --tls_key=KEY.pem])
//
// Output: "model_version=N arm=A fallback=B", then "rank item_id score" per
// item. Exit codes: 0 success, 2 bad flags, INVALID_ARGUMENT or NOT_FOUND,
// 1 other errors (e.g. UNAVAILABLE: nothing listens at --server).
'use strict';

const { parseArgs } = require('util');
const { connect, codeName } = require('./affinity');

function parseRecent(text) {
  if (!text) return [];
  return text.split(',').map((entry, n) => {
    const colon = entry.lastIndexOf(':');
    const weight = Number(entry.slice(colon + 1));
    if (colon <= 0 || !(weight >= 0)) {
      throw new Error(`--recent entry ${n + 1} '${entry}': expected item:weight, weight >= 0`);
    }
    return { item_id: entry.slice(0, colon), weight };
  });
}

async function main() {
  const { values: flags } = parseArgs({
    options: {
      server: { type: 'string', default: '127.0.0.1:50051' },
      user: { type: 'string' },
      item: { type: 'string' },
      k: { type: 'string', default: '10' },
      recent: { type: 'string', default: '' },
      rule_set: { type: 'string', default: '' },
      timeout_ms: { type: 'string', default: '2000' },
      tls_ca: { type: 'string' },
      tls_cert: { type: 'string' },
      tls_key: { type: 'string' },
    },
  });
  if ((flags.user === undefined) === (flags.item === undefined)) {
    throw new Error('give exactly one of --user and --item');
  }
  const k = Number(flags.k);
  const client = connect(flags.server, {
    timeoutMs: Number(flags.timeout_ms),
    tls_ca: flags.tls_ca, tls_cert: flags.tls_cert, tls_key: flags.tls_key,
  });
  try {
    const answer = flags.user !== undefined
      ? await client.recommend({ user_id: flags.user, k, recent: parseRecent(flags.recent),
                                 rule_set: flags.rule_set })
      : await client.similarItems({ item_id: flags.item, k, rule_set: flags.rule_set });
    console.log(`model_version=${answer.model_version} arm=${answer.arm} ` +
                `fallback=${answer.fallback ? 'True' : 'False'}`);
    answer.items.forEach((item, i) => {
      console.log(`${i + 1} ${item.item_id} ${item.score.toFixed(4)}` +
                  (item.from_fallback ? ' (fallback)' : ''));
    });
  } finally {
    client.close();
  }
}

main().then(() => process.exit(0), (err) => {
  if (err.code !== undefined && typeof err.code === 'number') {
    console.error(`error: ${codeName(err.code)}: ${err.details}`);
    process.exit(err.code === 3 || err.code === 5 ? 2 : 1);  // INVALID_ARGUMENT, NOT_FOUND
  }
  console.error(`error: ${err.message}`);
  process.exit(2);
});
