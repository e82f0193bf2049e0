// Trunk post-build hook, first step: splits the app's wasm so the first page downloads only what
// it needs. Pages marked lazy in `web::app::route_table` (built with the `lazy-pages` feature) are moved
// into their own modules, loaded when first visited; code they share goes into chunks.
//
// Trunk has no step between cargo and wasm-bindgen, so this re-does what follows cargo: it splits
// cargo's output (linked with --emit-relocs, see .cargo/config.toml) with wasm-split-cli, runs
// wasm-bindgen on the main module under Trunk's file names (replacing Trunk's copies), optimises
// every module with wasm-opt, names the new files with the build's hash (cached for ever, like
// Trunk's), and lists them in index.html for the service worker, which keeps them for working
// offline.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const stage = process.env.TRUNK_STAGING_DIR;
if (!stage) {
  console.error('split-wasm: TRUNK_STAGING_DIR is not set (run me as a Trunk hook)');
  process.exit(1);
}
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const fail = (message) => {
  console.error(`split-wasm: ${message}`);
  process.exit(1);
};
const tool = (name, ...places) =>
  places.map((p) => path.join(p, name)).find((p) => fs.existsSync(p)) ?? name;
const cargoBin = path.join(os.homedir(), '.cargo', 'bin');
const wasmSplit = tool('wasm-split-cli', cargoBin);
const wasmBindgen = tool('wasm-bindgen', cargoBin);
const wasmOpt = tool('wasm-opt', path.join(root, 'node_modules', '.bin'));

// Trunk's output for the app: mdt-web-<hash>.js and mdt-web-<hash>_bg.wasm. Trunk writes its
// 64-bit hash in hex without leading zeros, so it has 16 digits or fewer (15 in one build of 16).
const js = fs.readdirSync(stage).find((f) => /^mdt-web-[0-9a-f]{12,16}\.js$/.test(f));
if (!js) fail(`no mdt-web-<hash>.js in the staging directory ${stage}: ${fs.readdirSync(stage).join(', ')}`);
const stem = js.slice(0, -'.js'.length);
const hash = stem.slice('mdt-web-'.length);

// Cargo's output, before wasm-bindgen, from the profile Trunk built with: index.html's
// data-cargo-profile for a release build (Trunk sets TRUNK_PROFILE), the dev profile otherwise.
// (Taking the newest output of any profile once picked the browser tests' build, without the
// lazy pages, when Trunk's own build was already up to date and so not rewritten.)
const rustLink = fs.readFileSync(path.join(root, 'index.html'), 'utf8')
  .match(/<link[^>]*rel="rust"[^>]*>/)?.[0] ?? '';
const releaseProfile = rustLink.match(/data-cargo-profile="([^"]+)"/)?.[1] ?? 'release';
const lazyWanted = /data-cargo-features="[^"]*\blazy-pages\b/.test(rustLink);
const profile = process.env.TRUNK_PROFILE === 'release' ? releaseProfile : 'debug';
const built = path.join(root, 'target', 'wasm32-unknown-unknown', profile, 'mdt-web.wasm');
if (!fs.existsSync(built)) fail(`cargo output ${built} not found`);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mdt-split-'));
try {
  const splitResult = spawnSync(wasmSplit, ['--out-name', stem, built, work], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  process.stderr.write(splitResult.stderr ?? '');
  if (splitResult.status !== 0) fail(`wasm-split-cli failed (${splitResult.status ?? splitResult.signal})`);
  // When wasm-split-cli's new layout of the data comes out longer than the linker's, it keeps
  // all data in the first page's module (+28 KB brotli, issue 29). The slack in src/main.rs
  // (SPLIT_SLACK) leaves it room; should that ever run out, say so here rather than as a
  // mysterious jump in the size budget.
  if (/Overlong segment/.test(splitResult.stderr ?? '')) {
    fail('wasm-split-cli kept every page\'s data in the first download ("Overlong segment"): enlarge SPLIT_SLACK in src/main.rs');
  }
  const modules = fs.readdirSync(work).filter((f) => /^(split|chunk)_.*\.wasm$/.test(f));
  if (lazyWanted && modules.length === 0) {
    fail(`${built} was built with lazy-pages but holds no lazily loaded page: an older build?`);
  }
  // Nothing marked lazy (built without the feature): Trunk's output is only optimised.
  if (modules.length > 0) execFileSync(
    wasmBindgen,
    [path.join(work, `${stem}.wasm`), '--out-dir', stage, '--out-name', stem, '--target', 'web',
      '--keep-lld-exports', '--no-demangle', '--no-typescript'],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );

  // Every new file named with the build's hash; the loader and the main script pointed at them.
  const renamed = new Map([['__wasm_split.js', `mdt-web-split-${hash}.js`]]);
  if (modules.length > 0) {
  for (const m of modules) renamed.set(m, `mdt-web-${m.slice(0, -'.wasm'.length)}-${hash}.wasm`);
  let loader = fs.readFileSync(path.join(work, '__wasm_split.js'), 'utf8');
  for (const [from, to] of renamed) loader = loader.split(`"./${from}"`).join(`"./${to}"`);
  fs.writeFileSync(path.join(stage, renamed.get('__wasm_split.js')), loader);
  const mainJs = path.join(stage, js);
  fs.writeFileSync(
    mainJs,
    // Only the import statements: the wasm still names its import module "./__wasm_split.js".
    fs.readFileSync(mainJs, 'utf8')
      .split('from "./__wasm_split.js"')
      .join(`from "./${renamed.get('__wasm_split.js')}"`),
  );
  for (const m of modules) fs.copyFileSync(path.join(work, m), path.join(stage, renamed.get(m)));
  }

  // wasm-opt every module, two at a time (the machine's cores).
  const wasms = [`${stem}_bg.wasm`, ...modules.map((m) => renamed.get(m))];
  const optimise = (file) => new Promise((resolve, reject) => {
    const target = path.join(stage, file);
    const child = spawn(wasmOpt, ['-Oz', '--enable-bulk-memory', '--enable-nontrapping-float-to-int',
      '--enable-sign-ext', '--enable-mutable-globals', target, '-o', target], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`wasm-opt failed on ${file}`))));
  });
  const queue = [...wasms].sort((a, b) => fs.statSync(path.join(stage, b)).size - fs.statSync(path.join(stage, a)).size);
  await Promise.all([0, 1].map(async () => {
    while (queue.length) await optimise(queue.shift());
  }));

  // index.html: the main script and wasm changed (new integrity), and every lazy module and
  // chunk is prefetched, for the service worker to keep.
  const indexPath = path.join(stage, 'index.html');
  let html = fs.readFileSync(indexPath, 'utf8');
  const integrity = (file) =>
    'sha384-' + crypto.createHash('sha384').update(fs.readFileSync(path.join(stage, file))).digest('base64');
  for (const file of [js, `${stem}_bg.wasm`]) {
    const link = new RegExp(`(href="/${file.replace(/\./g, '\\.')}"[^>]*integrity=")[^"]*(")`);
    if (!link.test(html)) fail(`index.html does not link /${file} with an integrity value`);
    html = html.replace(link, `$1${integrity(file)}$2`);
  }
  // The lazy modules are named for the service worker, which keeps them for working offline;
  // the browser itself fetches each when its page is first visited (prefetching them all made
  // the first page ~100 ms slower to be usable).
  if (modules.length > 0) {
    const lazy = [renamed.get('__wasm_split.js'), ...modules.map((m) => renamed.get(m))]
      .map((f) => `/${f}`)
      .join(' ');
    html = html.replace('</head>', `  <meta name="mdt-lazy-modules" content="${lazy}">\n  </head>`);
  }
  fs.writeFileSync(indexPath, html);
  const size = (f) => fs.statSync(path.join(stage, f)).size;
  console.log(
    `split-wasm: first page ${size(`${stem}_bg.wasm`)} B; ${modules.length} lazy modules and chunks, ` +
      `${modules.reduce((s, m) => s + size(renamed.get(m)), 0)} B`,
  );
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
