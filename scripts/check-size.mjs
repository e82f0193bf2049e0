// The download's size budget: fails when the app's wasm, as sent (brotli, made at build time by
// scripts/precompress.mjs), is more than 5 % above the figures in scripts/size-budget.json:
// the first page (the main module: sign-in, unlock, the teams list, the sync client) and the whole
// app (the main module and every lazily loaded page and chunk, in their packs: see
// scripts/split-wasm.mjs and pack-wasm.mjs). Also fails when the service worker would make more
// requests than the budget's figure to keep the app when it installs (each costs a round trip).
// Raising a figure is a visible commit; lower it when the app shrinks.
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

const files = fs.readdirSync(dist);
const main = files.filter((f) => f.endsWith('_bg.wasm'));
if (main.length !== 1) {
  console.error(`check-size: expected one *_bg.wasm in ${dist}, found ${main.length}`);
  process.exit(1);
}
const brotliSize = (file) => {
  const compressed = path.join(dist, `${file}.br`);
  if (!fs.existsSync(compressed)) {
    console.error(`check-size: ${compressed} is missing (the build's precompress step did not run)`);
    process.exit(1);
  }
  return fs.statSync(compressed).size;
};
// The lazily loaded modules: in packs (.bin) once scripts/pack-wasm.mjs has run, else one file each.
const lazy = files.filter((f) => (f.endsWith('.wasm') && !f.endsWith('_bg.wasm')) || /^mdt-web-pack-.*\.bin$/.test(f));
const measured = {
  first_page_wasm_brotli_bytes: brotliSize(main[0]),
  whole_app_wasm_brotli_bytes: brotliSize(main[0]) + lazy.reduce((sum, f) => sum + brotliSize(f), 0),
};
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
let failed = false;
for (const [name, size] of Object.entries(measured)) {
  const allowed = budget[name];
  if (typeof allowed !== 'number') {
    console.error(`check-size: scripts/size-budget.json has no ${name}`);
    process.exit(1);
  }
  const limit = Math.floor(allowed * ALLOWED_GROWTH);
  console.log(`check-size: ${name} ${kb(size)}; budget ${kb(allowed)} (+5 % = ${kb(limit)})`);
  if (size > limit) {
    console.error(
      `check-size: ${name} grew to ${size} B, more than 5 % above the budget of ${allowed} B in scripts/size-budget.json. ` +
        'Find what grew (twiggy top / dominators, see BENCHMARKS.md) or, if it is worth it, raise the budget in its own commit.',
    );
    failed = true;
  } else if (size < allowed * 0.95) {
    console.log(`check-size: ${name} is more than 5 % under budget: lower the figure in scripts/size-budget.json to keep the gain.`);
  }
}
console.log(`check-size: ${lazy.length} files of lazily loaded modules and chunks beside the first page's`);

// What the service worker fetches when it installs (as sw.js reads index.html): the page, every
// file it links, and the lazily loaded pages' loader and packs named in its meta tag.
const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
const linked = [...html.matchAll(/(?:href|src)="(\/[^"]+)"/g)].map((m) => m[1]);
const named = ['mdt-app-wasm', 'mdt-lazy-modules'].flatMap(
  (name) => html.match(new RegExp(`<meta name="${name}" content="([^"]*)"`))?.[1].split(' ').filter(Boolean) ?? [],
);
const requests = 1 + linked.length + named.length;
const allowedRequests = budget.service_worker_install_requests;
if (typeof allowedRequests !== 'number') {
  console.error('check-size: scripts/size-budget.json has no service_worker_install_requests');
  process.exit(1);
}
console.log(`check-size: service_worker_install_requests ${requests}; budget ${allowedRequests}`);
if (requests > allowedRequests) {
  console.error(
    `check-size: the service worker would make ${requests} requests when it installs, more than the ${allowedRequests} in scripts/size-budget.json ` +
      '(are the lazily loaded modules packed? see scripts/pack-wasm.mjs)',
  );
  failed = true;
}
process.exit(failed ? 1 : 0);
