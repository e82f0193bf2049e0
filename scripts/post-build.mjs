// Trunk's post-build hook. Trunk runs the hooks of one stage at the same time, so the steps that
// must follow each other are one hook: first the wasm is split (lazy pages) and optimised, and the
// lazily loaded modules packed into a few files; then the loader leaves index.html (CSP), the NHS
// stylesheet loses its remote fonts (CSP), the service worker is stamped with the build and the
// signed-in first page is written; then every file is compressed (index.html included, as
// rewritten).
await import('./split-wasm.mjs');
await import('./pack-wasm.mjs');
await import('./externalize-loader.mjs');
await import('./strip-font-faces.mjs');
await import('./stamp-service-worker.mjs');
await import('./static-shell.mjs');
await import('./precompress.mjs');
