// The download's size budget: fails when the app's wasm, as sent (brotli, made at build time by
// scripts/precompress.mjs), is more than 5 % above the figure in scripts/size-budget.json.
// Raising the figure is a visible commit; lower it when the app shrinks.
//
//   node scripts/check-size.mjs [dist]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dist = path.resolve(process.argv[2] ?? path.join(here, '..', 'dist'));
const budgetFile = path.join(here, 'size-budget.json');
const budget = JSON.parse(fs.readFileSync(budgetFile, 'utf8'));
const ALLOWED_GROWTH = 1.05;

const wasm = fs.readdirSync(dist).filter((f) => f.endsWith('_bg.wasm'));
if (wasm.length !== 1) {
  console.error(`check-size: expected one *_bg.wasm in ${dist}, found ${wasm.length}`);
  process.exit(1);
}
const compressed = path.join(dist, `${wasm[0]}.br`);
if (!fs.existsSync(compressed)) {
  console.error(`check-size: ${compressed} is missing (the build's precompress step did not run)`);
  process.exit(1);
}
const raw = fs.statSync(path.join(dist, wasm[0])).size;
const brotli = fs.statSync(compressed).size;
const limit = Math.floor(budget.wasm_brotli_bytes * ALLOWED_GROWTH);
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
console.log(
  `check-size: wasm ${kb(raw)} raw, ${kb(brotli)} brotli; budget ${kb(budget.wasm_brotli_bytes)} (+5 % = ${kb(limit)})`,
);
if (brotli > limit) {
  console.error(
    `check-size: the wasm grew to ${brotli} B brotli, more than 5 % above the budget of ${budget.wasm_brotli_bytes} B in scripts/size-budget.json. ` +
      'Find what grew (twiggy top / dominators, see BENCHMARKS.md) or, if it is worth it, raise the budget in its own commit.',
  );
  process.exit(1);
}
if (brotli < budget.wasm_brotli_bytes * 0.95) {
  console.log('check-size: more than 5 % under budget: lower the figure in scripts/size-budget.json to keep the gain.');
}
