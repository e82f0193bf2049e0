// The app's service worker: keeps the app itself (the page, its script, wasm, styles and
// fonts) so the app starts with no connection, between home visits. It never stores anything
// from /api/: patient data lives only in the encrypted copy the app keeps in IndexedDB.
// v3: the lazily loaded pages come in a few packs (scripts/pack-wasm.mjs), no longer in ~300
// files; a new name drops the old copies.
const SHELL = 'mdt-shell-v3';

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL);
    const page = await fetch('/', { cache: 'no-store' });
    if (!page.ok) return;
    const html = await page.clone().text();
    await cache.put('/', page);
    // Trunk's output names each file by its content hash: the page lists all of them, some in
    // meta tags (scripts/split-wasm.mjs, pack-wasm.mjs, static-shell.mjs).
    const files = [...html.matchAll(/(?:href|src)="(\/[^"]+)"/g)].map((m) => m[1]);
    // The app's wasm, which the page does not preload (scripts/static-shell.mjs), and the lazily
    // loaded pages' loader and packs.
    for (const name of ['mdt-app-wasm', 'mdt-lazy-modules']) {
      const named = html.match(new RegExp(`<meta name="${name}" content="([^"]*)"`));
      if (named) files.push(...named[1].split(' ').filter(Boolean));
    }
    await cache.addAll(files);
  })());
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key !== SHELL) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || url.pathname.startsWith('/api/')) {
    return;
  }
  if (request.mode === 'navigate') {
    // The network first, so a new version of the app arrives; the kept page when offline.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(SHELL).then((cache) => cache.put('/', copy));
          }
          return response;
        })
        .catch(() => caches.match('/')),
    );
    return;
  }
  // Hashed files never change: the kept copy first, else the network (and keep it).
  event.respondWith(
    caches.match(request).then((kept) => kept || fetch(request).then((response) => {
      if (response.ok) {
        const copy = response.clone();
        caches.open(SHELL).then((cache) => cache.put(request, copy));
      }
      return response;
    })),
  );
});
