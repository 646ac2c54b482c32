// A promise-based client of affinity.v1.Recommender, with the service
// definition loaded at run time from the repository's .proto files by
// @grpc/proto-loader (no generated code).
//
//   const { connect } = require('./affinity');
//   const client = connect('127.0.0.1:50051');
//   const answer = await client.recommend({ user_id: 'alice', k: 10 });
//   client.close();
//
// Messages use the proto's field names (user_id, exclude_item_ids, ...);
// uint64 fields such as model_version come back as Numbers. A failed call
// rejects with the gRPC error (err.code, err.details; codeName(err.code)
// gives its name). The proto directory is AFFINITY_PROTO_ROOT, else
// ../../proto beside this file.
'use strict';

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

function protoRoot() {
  const root = process.env.AFFINITY_PROTO_ROOT || path.join(__dirname, '..', '..', 'proto');
  const file = path.join(root, 'affinity', 'v1', 'recommender.proto');
  if (!fs.existsSync(file)) {
    throw new Error(`${file} not found: run from a checkout of the repository, or set ` +
                    'AFFINITY_PROTO_ROOT to its proto/ directory');
  }
  return root;
}

function loadRecommender() {
  const definition = protoLoader.loadSync('affinity/v1/recommender.proto', {
    includeDirs: [protoRoot()],
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition).affinity.v1.Recommender;
}

function readFile(flag, file) {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`${flag} ${file}: cannot read it (${err.code})`);
  }
}

// Plaintext without TLS options; TLS with tls_ca (the CA that signed the
// server's certificate; omitted: the system's roots when tls is true) and,
// for a server with --tls_client_ca, tls_cert and tls_key.
function credentials({ tls = false, tls_ca, tls_cert, tls_key } = {}) {
  if (Boolean(tls_cert) !== Boolean(tls_key)) {
    throw new Error('tls_cert and tls_key: give both or neither');
  }
  if (!tls && !tls_ca && !tls_cert) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(
      tls_ca ? readFile('tls_ca', tls_ca) : null,
      tls_key ? readFile('tls_key', tls_key) : null,
      tls_cert ? readFile('tls_cert', tls_cert) : null);
}

function connect(address, { timeoutMs = 2000, ...tlsOptions } = {}) {
  const Recommender = loadRecommender();
  const stub = new Recommender(address, credentials(tlsOptions));
  const call = (method) => (request, { timeoutMs: ms = timeoutMs } = {}) =>
    new Promise((resolve, reject) => {
      stub[method](request, { deadline: new Date(Date.now() + ms) }, (err, response) => {
        if (err) reject(err);
        else resolve(response);
      });
    });
  return {
    recommend: call('Recommend'),
    similarItems: call('SimilarItems'),
    reportOutcome: call('ReportOutcome'),
    close: () => stub.close(),
  };
}

function codeName(code) {
  return Object.keys(grpc.status).find((name) => grpc.status[name] === code) || String(code);
}

module.exports = { connect, codeName };
