// After `turbo run build`: every published package's `exports` must resolve, without the
// in-repo `@molecule/source` condition, to built files in dist/ (JavaScript and .d.ts), as a
// consumer outside the repo would see them. Resolved from a workspace package that depends
// on it, so resolution goes through the real workspace links.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const consumers = {
  '@molecule/registry': 'packages/registry-client',
  '@molecule/registry-client': 'apps/imagewatch',
};
const probe = (name) => `
  const url = import.meta.resolve(${JSON.stringify(name)});
  const module = await import(url);
  console.log(JSON.stringify({ path: new URL(url).pathname, exports: Object.keys(module).length }));`;

let failures = 0;
for (const [name, consumer] of Object.entries(consumers)) {
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', probe(name)], {
    cwd: consumer,
    encoding: 'utf8',
  });
  const { path, exports } = JSON.parse(output);
  const types = path.replace(/\.js$/, '.d.ts');
  const ok = /\/dist\/index\.js$/.test(path) && existsSync(types) && exports > 0;
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${name} from ${consumer} → ${path} (${exports} exports, .d.ts ${existsSync(types) ? 'present' : 'missing'})`,
  );
  if (!ok) failures += 1;
}
process.exit(failures === 0 ? 0 : 1);
