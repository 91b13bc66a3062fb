// Preloaded into the services under test (`node --import <this file>`): records every
// outbound socket connection and every DNS lookup the process makes, one JSON line per
// event, to the file named by MOLECULE_E2E_CONNECTION_LOG. The e2e suite then proves that
// no service talked to anything but loopback and the engine's socket after the registry
// switch. Test tooling only: never loaded in production.

import dns from 'node:dns';
import { appendFileSync } from 'node:fs';
import net from 'node:net';

const logFile = process.env.MOLECULE_E2E_CONNECTION_LOG;

function record(event) {
  if (!logFile) return;
  appendFileSync(logFile, `${JSON.stringify({ pid: process.pid, at: Date.now(), ...event })}\n`);
}

function describeTarget(args) {
  const [first, second] = args;
  // connect(options[, cb]) / connect(path[, cb]) / connect(port[, host][, cb]); normalised
  // args arrays come from net.connect().
  const options = Array.isArray(first) ? first[0] : first;
  if (typeof options === 'string') return { path: options };
  if (typeof options === 'number')
    return { host: typeof second === 'string' ? second : 'localhost', port: options };
  if (options && typeof options === 'object') {
    if (options.path) return { path: String(options.path) };
    return { host: options.host ?? 'localhost', port: options.port };
  }
  return { unknown: true };
}

const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(...args) {
  record({ type: 'connect', ...describeTarget(args) });
  return originalConnect.apply(this, args);
};

const originalLookup = dns.lookup;
dns.lookup = function lookup(hostname, ...rest) {
  record({ type: 'lookup', hostname });
  return originalLookup.call(this, hostname, ...rest);
};
const originalPromisesLookup = dns.promises.lookup;
dns.promises.lookup = function lookup(hostname, ...rest) {
  record({ type: 'lookup', hostname });
  return originalPromisesLookup.call(this, hostname, ...rest);
};
