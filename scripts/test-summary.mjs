// Adds up the vitest JSON reports of every workspace package and prints one closing line,
// `tests: N passed, N failed, N skipped`, after naming every failed test (file, title and the
// first line of its message), so the end of a long log says what broke. Exits non-zero when a
// package wrote no report, when any test failed, or when no test ran at all.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['packages', 'apps'];
let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
const failures = [];
for (const root of roots) {
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    if (!existsSync(join(dir, 'package.json'))) continue;
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    if (!pkg.scripts?.test) continue;
    const report = join(dir, 'test-report.json');
    if (!existsSync(report)) {
      missing.push(pkg.name);
      continue;
    }
    const json = JSON.parse(readFileSync(report, 'utf8'));
    passed += json.numPassedTests ?? 0;
    failed += json.numFailedTests ?? 0;
    skipped += (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
    // A file that failed to load has no failed assertion of its own: count it as one failure.
    const brokenFiles = (json.testResults ?? []).filter(
      (file) =>
        file.status === 'failed' &&
        (file.assertionResults ?? []).every((a) => a.status !== 'failed'),
    );
    failed += brokenFiles.length;
    for (const file of json.testResults ?? []) {
      const where = file.name?.replace(`${process.cwd()}/`, '') ?? '?';
      for (const test of file.assertionResults ?? []) {
        if (test.status === 'failed')
          failures.push(`${where} > ${test.fullName}: ${firstLine(test.failureMessages)}`);
      }
      if (brokenFiles.includes(file)) failures.push(`${where}: ${firstLine([file.message])}`);
    }
    console.log(
      `${pkg.name}: ${json.numPassedTests} passed, ${json.numFailedTests} failed, ${json.numPendingTests} skipped`,
    );
  }
}
for (const failure of failures) console.log(`failed: ${failure}`);
for (const name of missing) console.log(`${name}: no test report (its test run did not finish)`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || missing.length > 0 || passed === 0 ? 1 : 0);

/** The first non-empty line of a failure message, cut to 300 characters. */
function firstLine(messages) {
  const line = (messages ?? [])
    .join('\n')
    .split('\n')
    .find((text) => text.trim() !== '');
  return (line ?? 'no message').trim().slice(0, 300);
}
