import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { missingRealParts, realPartsGate } from './binaries.js';

const gate = realPartsGate(['docker-registry']);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(gate.skip || missingRealParts(['setpriv']) !== undefined)(
  `a test process killed by a signal ${gate.reason ?? ''}`,
  () => {
    it('takes its registry down with it (pdeathsig)', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'rp-orphan-'));
      const script = join(dir, 'start.mts');
      const distribution = fileURLToPath(new URL('./distribution.ts', import.meta.url));
      await writeFile(
        script,
        `import { startDistribution } from ${JSON.stringify(distribution)};
const registry = await startDistribution();
const res = await fetch(registry.url + '/v2/');
console.log(JSON.stringify({ status: res.status, dir: registry.dir, pid: registry.pid }));
setInterval(() => {}, 1000);
`,
      );
      // `node --import tsx` runs the script in this very node process, whose pid we kill
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let started: { status: number; dir: string; pid: number } | undefined;
      try {
        const line = await new Promise<string>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString('utf8');
            if (out.includes('\n')) resolve(out.trim());
          });
          child.once('exit', (code) => reject(new Error(`start script exited with ${code}`)));
        });
        started = JSON.parse(line) as { status: number; dir: string; pid: number };
        expect(started.status).toBe(200);
        expect(alive(started.pid)).toBe(true);
        child.kill('SIGKILL');
        const deadline = Date.now() + 10_000;
        while (alive(started.pid) && Date.now() < deadline) await delay(100);
        expect(alive(started.pid)).toBe(false);
      } finally {
        child.kill('SIGKILL');
        if (started && alive(started.pid)) process.kill(started.pid, 'SIGKILL');
        if (started) await rm(started.dir, { recursive: true, force: true });
        await rm(dir, { recursive: true, force: true });
      }
    });
  },
);
