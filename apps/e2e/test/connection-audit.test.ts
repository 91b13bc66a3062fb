import { describe, expect, it } from 'vitest';
import { auditConnections, isLoopbackHost, parseConnectionLog } from '../src/connection-audit.js';

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['::1', true],
    ['[::1]', true],
    ['ghcr.io', false],
    ['10.0.0.1', false],
    ['128.0.0.1', false],
    ['::2', false],
  ])('%s → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe('auditConnections', () => {
  const log = [
    '{"type":"connect","pid":1,"host":"127.0.0.1","port":5000}',
    '{"type":"connect","pid":1,"path":"/tmp/x/engine.sock"}',
    '{"type":"lookup","pid":1,"hostname":"localhost"}',
    '{"type":"lookup","pid":2,"hostname":"ghcr.io"}',
    '{"type":"connect","pid":2,"host":"140.82.1.1","port":443}',
    '{"type":"connect","pid":2,"path":"/var/run/docker.sock"}',
    '',
  ].join('\n');

  it('flags non-loopback connects, DNS lookups of real names and unexpected sockets', () => {
    const audit = auditConnections(parseConnectionLog(log), ['/tmp/x/engine.sock']);
    expect(audit.events).toHaveLength(6);
    expect(audit.violations).toEqual([
      { type: 'lookup', pid: 2, hostname: 'ghcr.io' },
      { type: 'connect', pid: 2, host: '140.82.1.1', port: 443 },
      { type: 'connect', pid: 2, path: '/var/run/docker.sock' },
    ]);
  });

  it('passes a log of loopback and allowed sockets only', () => {
    const clean = parseConnectionLog(log).slice(0, 3);
    expect(auditConnections(clean, ['/tmp/x/engine.sock']).violations).toEqual([]);
  });
});
