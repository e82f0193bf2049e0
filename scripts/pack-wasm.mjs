// Trunk post-build step (run by scripts/post-build.mjs right after split-wasm.mjs): packs the
// lazily loaded modules and chunks into a few files, so opening a page for the first time costs
// at most three requests, and the service worker keeps the whole app in fewer than thirty.
//
// wasm-split makes one chunk for every set of pages that shares code: about 270 chunks, most of a
// few hundred bytes, and a page needs up to 165 of them. Fetched one by one they cost more in
// round trips than in bytes: on a slow mobile connection (150 ms a request, 1.6 Mbit/s, six
// connections at a time over HTTP/1.1) the meeting page took 6 s to open the first time, and the
// service worker made 300 requests when it installed. Bytes are cheaper than that, so a page may
// fetch some code it does not need yet (ready for the next page it opens): packed, the meeting
// page opens in 1.3 to 1.5 s on the same connection, in three requests.
//
// Which modules go together is a choice of which packs each page fetches (at most three,
// `PACKS_PER_PAGE`): every module then goes to the smallest pack that all its pages fetch, and the
// choice is the one that wastes the fewest bytes, summed over the pages, that a deterministic
// local search finds (seeded, so the same build makes the same packs). One pack, fetched by every
// page, holds what most pages share; each page's own code is usually in a pack of its own or of a
// few pages; and nothing is copied twice, so the whole app is downloaded once, as before.
//
// The loader wasm-split wrote (mdt-web-split-<hash>.js) gets each module's bytes from its pack: a
// pack is fetched once, as soon as any of its modules is wanted (a failed fetch is forgotten, so
// the next try fetches again), and the packs a page needs are all asked for at once. The modules'
// own files leave the build, and index.html lists the packs for the service worker instead.
// Anything unexpected in the loader fails the build: a wasm-split upgrade must be looked at.
//
//   node scripts/pack-wasm.mjs [dir]   (default: $TRUNK_STAGING_DIR, as a Trunk hook)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKS_PER_PAGE = 3;
/** Files the service worker may fetch when it installs: the page, its files, the loader, the packs. */
const SERVICE_WORKER_FILES = JSON.parse(fs.readFileSync(new URL('./size-budget.json', import.meta.url), 'utf8'))
  .service_worker_install_requests;
/** At most this many packs even when the service worker could take more (room for new files). */
const MOST_PACKS = 20;
/** Starts of the search for packs (the first from each page on a pack of its own, the others random). */
const RESTARTS = 12;

const fail = (message) => {
  console.error(`pack-wasm: ${message}`);
  process.exit(1);
};
// A directory on the command line (run by hand on a copy of dist/), else Trunk's staging directory
// (run from scripts/post-build.mjs, whose own arguments are not for this script).
const runDirectly = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
const stage = (runDirectly && process.argv[2]) || process.env.TRUNK_STAGING_DIR;
if (!stage) fail('no directory: give one, or run me as a Trunk hook (TRUNK_STAGING_DIR)');
const loaderName = fs.readdirSync(stage).find((f) => /^mdt-web-split-[0-9a-f]{12,16}\.js$/.test(f));
if (loaderName) pack(stage, loaderName);
else if (/<meta name="mdt-lazy-modules"/.test(fs.readFileSync(path.join(stage, 'index.html'), 'utf8'))) {
  fail('index.html lists lazy modules but there is no mdt-web-split-<hash>.js');
} else console.log('pack-wasm: built without lazy pages: nothing to pack');

function pack(stage, loaderName) {
  const file = (name) => path.join(stage, name);
  const indexPath = file('index.html');
  let html = fs.readFileSync(indexPath, 'utf8');
  const META = /<meta name="mdt-lazy-modules" content="([^"]*)">/;
  const hash = loaderName.slice('mdt-web-split-'.length, -'.js'.length);
  const loader = fs.readFileSync(file(loaderName), 'utf8');
  if (loader.includes('function fromPack(')) {
    console.log(`pack-wasm: ${loaderName} already loads from packs`);
    return;
  }

  // ---- The loader as wasm-split-cli writes it ----------------------------------------------------
  // One definition per module: an optional comment naming the pages (route views) that use it, the
  // loader of a chunk (`const __chunk_N = makeLoad(…)`) or of a page's module (exported, wrapped in
  // wrapAsyncCb), its fetch, and the loaders it needs first.
  const DEFINITION = new RegExp(
    String.raw`(?:/\* ([^*\n]*) \*/\n)?` +
      String.raw`(?:const (__chunk_\d+) = makeLoad\(|export const __wasm_split_load_(\w+) = wrapAsyncCb\(makeLoad\()` +
      String.raw`\(\) => \{\n` +
      String.raw` {4}const src = fetch\(new URL\("\./([^"]+\.wasm)", import\.meta\.url\)\);\n` +
      String.raw` {4}return async \(imports\) => \(WebAssembly\.instantiateStreaming\(src, imports\)\);\n` +
      String.raw`\}\n, \[([^\]]*)\]\)(\)?);\n`,
    'g',
  );
  const modules = [];
  for (const m of loader.matchAll(DEFINITION)) {
    const [whole, comment, chunk, entry, name, deps, wrapped] = m;
    if (Boolean(entry) !== Boolean(wrapped)) fail(`unbalanced definition of ${chunk ?? entry} in ${loaderName}`);
    if (!fs.existsSync(file(name))) fail(`${loaderName} loads ./${name}, which is not in ${stage}`);
    modules.push({
      id: chunk ?? `__wasm_split_load_${entry}`,
      view: entry ?? null, // the route view an exported loader loads, e.g. __meeting_route_view_123
      comment: comment?.split(', ') ?? null,
      file: name,
      deps: deps.trim() === '' ? [] : deps.split(', '),
      text: whole,
      index: m.index,
    });
  }
  if (modules.length === 0) fail(`no module definitions found in ${loaderName}: has wasm-split-cli's output changed?`);
  // Everything was understood: as many fetches and makeLoad calls as definitions (the one more
  // makeLoad is its own declaration), and the definitions are the end of the file.
  const count = (needle) => loader.split(needle).length - 1;
  if (count('fetch(') !== modules.length || count('makeLoad(') !== modules.length + 1) {
    fail(`${loaderName} has ${count('fetch(')} fetches and ${count('makeLoad(') - 1} makeLoad calls, ` +
      `but ${modules.length} module definitions were understood: has wasm-split-cli's output changed?`);
  }
  const head = loader.slice(0, modules[0].index);
  if (!head.includes('function makeLoad(fetcher, deps)')) fail(`${loaderName} has no makeLoad(fetcher, deps)`);
  let end = modules[0].index;
  for (const m of modules) {
    if (m.index !== end) fail(`unexpected text in ${loaderName} before the definition of ${m.id}`);
    end = m.index + m.text.length;
  }
  if (loader.slice(end).trim() !== '') fail(`unexpected text at the end of ${loaderName}`);

  const byId = new Map(modules.map((m) => [m.id, m]));
  for (const m of modules) {
    for (const d of m.deps) if (!byId.has(d)) fail(`${m.id} needs ${d}, which ${loaderName} does not define`);
  }
  const entries = modules.filter((m) => m.view);
  if (entries.length === 0) fail(`${loaderName} exports no page's loader`);
  // The pages that load each module: its own page, or every page that needs it, directly or not.
  for (const m of modules) m.users = new Set();
  for (const page of entries) {
    const seen = new Set();
    const visit = (m) => {
      if (seen.has(m)) return;
      seen.add(m);
      m.users.add(page.view);
      for (const d of m.deps) visit(byId.get(d));
    };
    visit(page);
  }
  // wasm-split names the pages that use each chunk: they must be the ones found from the loaders,
  // or this script misunderstands the loader.
  for (const m of modules) {
    if (!m.comment) continue;
    const said = [...m.comment].sort().join(', ');
    const found = [...m.users].sort().join(', ');
    if (said !== found) fail(`${m.id}: ${loaderName} says it is used by ${said}, its loaders say ${found}`);
  }
  // index.html names the loader and every module for the service worker (split-wasm.mjs).
  const listed = html.match(META);
  if (!listed) fail('index.html has no <meta name="mdt-lazy-modules"> (scripts/split-wasm.mjs writes it)');
  const expected = [loaderName, ...modules.map((m) => m.file)].map((f) => `/${f}`).sort().join(' ');
  if (listed[1].split(' ').filter(Boolean).sort().join(' ') !== expected) {
    fail('index.html\'s mdt-lazy-modules does not list exactly the loader and its modules');
  }
  const unused = modules.filter((m) => m.users.size === 0);
  if (unused.length) console.log(`pack-wasm: no page loads ${unused.map((m) => m.id).join(', ')}: put with what every page fetches`);

  // ---- Choosing the packs -------------------------------------------------------------------------
  const views = entries.map((m) => m.view);
  const pageOf = new Map(views.map((v, i) => [v, i]));
  // Sets of pages as bit masks, in 32-bit words.
  const WORDS = Math.ceil(views.length / 32);
  const maskOf = (pages) => {
    const mask = new Int32Array(WORDS);
    for (const p of pages) mask[p >> 5] |= 1 << (p & 31);
    return mask;
  };
  for (const m of modules) {
    m.size = fs.statSync(file(m.file)).size;
    m.mask = maskOf(m.users.size ? [...m.users].map((v) => pageOf.get(v)) : views.map((_, i) => i));
  }
  const moduleMasks = new Int32Array(modules.length * WORDS);
  modules.forEach((m, i) => moduleMasks.set(m.mask, i * WORDS));

  // How many files the service worker fetches besides the packs: the page, what it links (and
  // Trunk's inline loader, which externalize-loader.mjs makes a file next), the lazy pages' loader.
  const linked = [...html.matchAll(/(?:href|src)="(\/[^"]+)"/g)].length;
  const inline = html.split('<script type="module">').length - 1;
  const shellFiles = 1 + linked + inline + 1;
  if (!Number.isInteger(SERVICE_WORKER_FILES)) fail('scripts/size-budget.json has no service_worker_install_requests');
  const packLimit = Math.min(MOST_PACKS, SERVICE_WORKER_FILES - shellFiles);
  if (packLimit < 1) fail(`index.html links ${shellFiles - 2} files: no room for packs within ${SERVICE_WORKER_FILES} files`);

  function popcount(w) {
    let n = 0;
    for (let x = w >>> 0; x; x &= x - 1) n += 1;
    return n;
  }
  /**
   * Which pages fetch which pack: `subs` holds pack p's pages at [p * WORDS, (p + 1) * WORDS), pack
   * 0 every page's (so every module has a pack all its pages fetch). The cost of a choice is the
   * bytes the pages fetch: each module goes to the pack with the fewest pages among those all its
   * pages fetch.
   */
  function placement(subs) {
    const counts = new Int32Array(packLimit);
    for (let p = 0; p < packLimit; p++) for (let w = 0; w < WORDS; w++) counts[p] += popcount(subs[p * WORDS + w]);
    let cost = 0;
    const packOf = new Int32Array(modules.length);
    for (let i = 0; i < modules.length; i++) {
      let best = -1;
      for (let p = 0; p < packLimit; p++) {
        if (best >= 0 && counts[p] >= counts[best]) continue;
        let fits = true;
        for (let w = 0; w < WORDS && fits; w++) fits = (moduleMasks[i * WORDS + w] & ~subs[p * WORDS + w]) === 0;
        if (fits) best = p;
      }
      cost += counts[best] * modules[i].size;
      packOf[i] = best;
    }
    return { cost, packOf };
  }
  // A small seeded generator (mulberry32): the same build gives the same packs.
  function random(seed) {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  function choose() {
    const pages = views.length;
    const has = (subs, q, p) => (subs[q * WORDS + (p >> 5)] >>> (p & 31)) & 1;
    const flip = (subs, q, p) => { subs[q * WORDS + (p >> 5)] ^= 1 << (p & 31); };
    const fetched = (subs, p) => { let n = 0; for (let q = 0; q < packLimit; q++) n += has(subs, q, p); return n; };
    let best = null;
    for (let restart = 0; restart < RESTARTS; restart++) {
      const next = random(restart + 1);
      const subs = new Int32Array(packLimit * WORDS);
      for (let p = 0; p < pages; p++) flip(subs, 0, p);
      // First start: a pack of its own for each page (as far as there are packs); then random ones.
      for (let p = 0; p < pages && packLimit > 1; p++) {
        if (restart === 0) flip(subs, 1 + (p % (packLimit - 1)), p);
        else {
          for (let k = 0; k < PACKS_PER_PAGE - 1; k++) {
            const q = 1 + Math.floor(next() * (packLimit - 1));
            if (!has(subs, q, p)) flip(subs, q, p);
          }
        }
      }
      // Local search: take a page off a pack, put it on one, or move it from one to another,
      // while that lowers the bytes fetched.
      let cost = placement(subs).cost;
      const better = () => {
        const c = placement(subs).cost;
        if (c >= cost) return false;
        cost = c;
        return true;
      };
      for (let improved = true; improved;) {
        improved = false;
        for (let p = 0; p < pages; p++) {
          for (let q = 1; q < packLimit; q++) {
            if (has(subs, q, p)) {
              flip(subs, q, p);
              if (better()) { improved = true; continue; }
              let moved = false;
              for (let r = 1; r < packLimit && !moved; r++) {
                if (r === q || has(subs, r, p)) continue;
                flip(subs, r, p);
                if (better()) moved = improved = true;
                else flip(subs, r, p);
              }
              if (!moved) flip(subs, q, p);
            } else if (fetched(subs, p) < PACKS_PER_PAGE) {
              flip(subs, q, p);
              if (better()) improved = true;
              else flip(subs, q, p);
            }
          }
        }
      }
      if (!best || cost < best.cost) best = { cost, subs: subs.slice() };
    }
    return placement(best.subs).packOf;
  }
  const packOf = choose();

  // The packs that hold something, in a fixed order: the one every page fetches first, then the
  // largest first. Each is named after the pages whose own module it holds (or `shared-N`).
  const short = (view) => view.replace(/^__/, '').replace(/_route_view_\d+$/, '').replace(/_/g, '-');
  const groups = new Map();
  modules.forEach((m, i) => {
    if (!groups.has(packOf[i])) groups.set(packOf[i], []);
    groups.get(packOf[i]).push(m);
  });
  const packs = [...groups.values()]
    .map((members) => {
      const pages = members.filter((m) => m.view).map((m) => short(m.view)).sort();
      return { members, pages, bytes: members.reduce((s, m) => s + m.size, 0) };
    })
    .sort((a, b) => (b.members === groups.get(0)) - (a.members === groups.get(0)) || b.bytes - a.bytes || a.members[0].index - b.members[0].index);
  let shared = 0;
  for (const pack of packs) {
    let label = pack.members === groups.get(0) ? 'common' : pack.pages.length ? pack.pages.join('+') : `shared-${(shared += 1)}`;
    if (label.length > 60) label = `${pack.pages[0]}+${pack.pages.length - 1}-more`;
    pack.name = `mdt-web-pack-${label}-${hash}.bin`;
  }
  if (new Set(packs.map((p) => p.name)).size !== packs.length) fail('two packs have the same name');

  const packIndex = new Map();
  packs.forEach((p, i) => p.members.forEach((m) => packIndex.set(m, i)));
  const fetchedBy = (page) => [...new Set(modules.filter((m) => m.users.has(page.view)).map((m) => packIndex.get(m)))];
  for (const page of entries) {
    if (fetchedBy(page).length > PACKS_PER_PAGE) fail(`${short(page.view)} would fetch ${fetchedBy(page).length} packs`);
  }

  // ---- Writing them -------------------------------------------------------------------------------
  const where = new Map();
  for (const [i, pack] of packs.entries()) {
    // In the loader's order, so a build's pack is the same bytes whenever the modules are.
    pack.members.sort((a, b) => a.index - b.index);
    const parts = [];
    let offset = 0;
    for (const m of pack.members) {
      const bytes = fs.readFileSync(file(m.file));
      where.set(m, { pack: i, offset, length: bytes.length });
      parts.push(bytes);
      offset += bytes.length;
    }
    fs.writeFileSync(file(pack.name), Buffer.concat(parts));
  }

  const helper = `
// The modules come in packs (scripts/pack-wasm.mjs): each pack is fetched once, when the first
// of its modules is wanted, and a failed fetch is forgotten (as makeLoad forgets a failed load),
// so the next load fetches it again.
const packFiles = [
${packs.map((p) => `    "./${p.name}",`).join('\n')}
];
const packBytes = [];
function fromPack(pack, offset, length) {
    let bytes = packBytes[pack];
    if (bytes === undefined) {
        const fetching = fetch(new URL(packFiles[pack], import.meta.url)).then((response) => {
            if (!response.ok) throw new Error(\`\${packFiles[pack]}: HTTP \${response.status}\`);
            return response.arrayBuffer();
        });
        fetching.catch(() => {
            if (packBytes[pack] === fetching) packBytes[pack] = undefined;
        });
        packBytes[pack] = bytes = fetching;
    }
    const slice = bytes.then((buffer) => new Uint8Array(buffer, offset, length));
    // Whoever awaits it sees a failure; this only keeps a failure nobody awaited (a needed
    // module failed first) from being reported as unhandled.
    slice.catch(() => {});
    return slice;
}
`;
  let out = head + helper;
  for (const m of modules) {
    const at = where.get(m);
    const fetchLine = `    const src = fetch(new URL("./${m.file}", import.meta.url));\n`;
    const instantiateLine = '    return async (imports) => (WebAssembly.instantiateStreaming(src, imports));\n';
    out += m.text
      .replace(fetchLine, `    const src = fromPack(${at.pack}, ${at.offset}, ${at.length});\n`)
      .replace(instantiateLine, '    return async (imports) => (WebAssembly.instantiate(await src, imports));\n');
  }
  if (out.split('fetch(').length - 1 !== 1) fail('the rewritten loader still fetches a module');
  if (out.includes('instantiateStreaming')) fail('the rewritten loader still streams a module');
  fs.writeFileSync(file(loaderName), out);

  // index.html: the service worker keeps the loader and the packs.
  html = html.replace(META, `<meta name="mdt-lazy-modules" content="${[loaderName, ...packs.map((p) => p.name)].map((f) => `/${f}`).join(' ')}">`);
  fs.writeFileSync(indexPath, html);

  // The modules' own files, and compressed copies of what changed (precompress.mjs writes them
  // again), so no stale copy is ever sent.
  for (const m of modules) {
    for (const suffix of ['', '.br', '.gz']) fs.rmSync(file(m.file + suffix), { force: true });
  }
  for (const name of ['index.html', loaderName]) {
    for (const suffix of ['.br', '.gz']) fs.rmSync(file(name + suffix), { force: true });
  }

  // What each page fetches.
  const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
  console.log(`pack-wasm: ${modules.length} modules in ${packs.length} packs (service worker: ${shellFiles + packs.length} files)`);
  for (const p of packs) console.log(`pack-wasm:   ${p.name}: ${kb(p.bytes)}, ${p.members.length} modules`);
  let waste = 0;
  for (const page of entries) {
    const fetched = fetchedBy(page);
    const need = modules.filter((m) => m.users.has(page.view)).reduce((sum, m) => sum + m.size, 0);
    const got = fetched.reduce((sum, i) => sum + packs[i].bytes, 0);
    waste += got - need;
    console.log(`pack-wasm:   ${short(page.view)}: ${fetched.length} packs, ${kb(got)} for ${kb(need)} needed`);
  }
  console.log(`pack-wasm: fetched before it is needed, summed over the pages: ${kb(waste)}`);
}
