// Trunk post-build step (run by scripts/post-build.mjs, after the loader has left index.html and
// before compression), for the page's first paint (see index.html, #mdt-shell):
//
// 1. The app's wasm is no longer preloaded by the page: the loader asks for it when it runs,
//    after the page has painted. A preload finished before the first paint makes Lighthouse's
//    simulation of a slow phone count the whole wasm (1.6 s on slow 4G) as needed for that
//    paint; the person on a phone sees the page at once either way, and the wasm starts about
//    one round trip later (BENCHMARKS.md, issue 27). Its name moves to
//    <meta name="mdt-app-wasm">, where the service worker finds it to keep for offline use.
// 2. The static sign-in form's handling (scripts/shell-prelude.js) becomes a file named by its
//    hash, linked in the head before the stylesheets: a script there runs before anything is
//    painted, so a press of "Sign in" can never come before it (the app's loader, a module
//    that first fetches the app's glue code, came a second later on slow 4G, and a press
//    before it was lost).
// 3. Writes dist/index-signed-in.html, the page as it first paints for a request that carries a
//    session cookie: index.html with the static shell's opening message shown instead of its
//    sign-in form. The server sends it to signed-in requests (src/server/static_files.rs), so a
//    signed-in person never sees a sign-in form flash up while the app loads.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error('static-shell: TRUNK_STAGING_DIR is not set (run me as a Trunk hook)');
  process.exit(1);
}
const indexPath = path.join(dir, 'index.html');
const built = fs.readFileSync(indexPath, 'utf8');
const preload = /<link rel="preload" href="(\/[^"]+_bg\.wasm)"[^>]*>/;
const wasm = built.match(preload)?.[1];
if (!wasm) {
  console.error('static-shell: no preload of the app\'s wasm in index.html (has Trunk\'s output changed?)');
  process.exit(1);
}
const prelude = fs.readFileSync(new URL('./shell-prelude.js', import.meta.url));
const preludeName = `shell-${crypto.createHash('sha256').update(prelude).digest('hex').slice(0, 16)}.js`;
fs.writeFileSync(path.join(dir, preludeName), prelude);
const integrity = 'sha384-' + crypto.createHash('sha384').update(prelude).digest('base64');
const firstStylesheet = built.indexOf('<link rel="stylesheet"');
if (firstStylesheet < 0) {
  console.error('static-shell: no stylesheet link in index.html to put the form\'s script before');
  process.exit(1);
}
const withPrelude =
  built.slice(0, firstStylesheet) +
  `<script src="/${preludeName}" integrity="${integrity}"></script>\n    ` +
  built.slice(firstStylesheet);
const html = withPrelude.replace(preload, `<meta name="mdt-app-wasm" content="${wasm}">`);
fs.writeFileSync(indexPath, html);

const swaps = [
  ['id="mdt-shell-sign-in"', 'id="mdt-shell-sign-in" hidden'],
  ['id="mdt-shell-opening" hidden', 'id="mdt-shell-opening"'],
];
let signedIn = html;
for (const [from, to] of swaps) {
  if (signedIn.split(from).length !== 2) {
    console.error(`static-shell: expected exactly one ${from} in index.html`);
    process.exit(1);
  }
  signedIn = signedIn.replace(from, to);
}
fs.writeFileSync(path.join(dir, 'index-signed-in.html'), signedIn);
console.log(`static-shell: ${wasm} is loaded by the loader, not preloaded; the form's script is /${preludeName}; wrote index-signed-in.html`);
