// MNIST Lab's service worker (the hosted build only: `make dist` fills in MANIFEST and registers
// it from init.js). After a first visit the page opens offline: the app shell and the first
// screen's files are cached when the worker installs, every data or model file once it has been
// fetched. Data and model files are checked against their SHA-256 (the data's from
// scripts/data.sha256) before they are cached or used, so a corrupted download or cache entry is
// fetched again instead of reaching the page.
'use strict';

const MANIFEST = {/* MANIFEST */};

// The shell changes with every deploy (its files have hashed names); its cache is per version
// and older ones are deleted on activation. Verified files are checked by hash on every use, so
// their cache survives deploys: a file whose hash changed is simply fetched again.
const SHELL = 'mnist-lab-shell-' + MANIFEST.version;
const FILES = 'mnist-lab-files';
const SCOPE = new URL(self.registration.scope);

const hex = buf => Array.from(new Uint8Array(buf), b => b.toString(16).padStart(2, '0')).join('');
const sha256 = async buf => hex(await crypto.subtle.digest('SHA-256', buf));

/** A file's digest as the manifest states it: of the decompressed bytes for the data sets' .gz
 * files (scripts/data.sha256 lists those), of the file itself otherwise. A .gz that does not
 * decompress has no digest. */
async function digest(bytes, gzip) {
  if (!gzip) return sha256(bytes);
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return sha256(await new Response(stream).arrayBuffer());
  } catch (e) {
    return 'not gzip';
  }
}

/** The path below the site's folder ("data/mnist/…"), or null for another origin or folder. */
function relative(url) {
  const u = new URL(url);
  if (u.origin !== SCOPE.origin || !u.pathname.startsWith(SCOPE.pathname)) return null;
  return u.pathname.slice(SCOPE.pathname.length);
}

function failure(status, text) {
  return new Response(text, { status, statusText: text, headers: { 'Content-Type': 'text/plain' } });
}

/** A data or model file: the cached copy if its hash is right, else the network's, checked. */
async function verified(rel) {
  const want = MANIFEST.hashes[rel];
  const ok = async bytes => (await digest(bytes, want.gzip)) === want.sha256;
  const cache = await caches.open(FILES);
  const key = new URL(rel, SCOPE).href;
  const cached = await cache.match(key);
  if (cached) {
    const bytes = await cached.clone().arrayBuffer();
    if (await ok(bytes)) return cached;
    console.warn(`MNIST Lab: the cached ${rel} failed its SHA-256 check; fetching it again`);
    await cache.delete(key);
  }
  // The HTTP cache's copy first (the page has usually just fetched the file: no second
  // download), checked like any other; a bad answer (an error, a wrong hash) is fetched again
  // from the host itself.
  let response, bytes;
  for (const mode of ['default', 'reload']) {
    try {
      response = await fetch(key, { cache: mode });
    } catch (e) {
      return failure(503, mode === 'default'
        ? `offline, and ${rel} was never downloaded on this browser`
        : `${rel} could not be fetched again from the host (offline?) after a bad copy`);
    }
    if (!response.ok) {
      if (mode === 'reload') return response;
      continue;
    }
    bytes = await response.arrayBuffer();
    if (await ok(bytes)) break;
    if (mode === 'reload') {
      return failure(502, `${rel} failed its SHA-256 check after download (a damaged or altered file)`);
    }
  }
  const headers = new Headers(response.headers);
  headers.set('Content-Length', String(bytes.byteLength));
  await cache.put(key, new Response(bytes, { headers }));
  return new Response(bytes, { headers });
}

/** The page itself: the network's when it answers (a new deploy shows at once), else the copy
 * (offline, or a host that is down or answers with an error). */
async function networkFirst(request) {
  const cache = await caches.open(SHELL);
  let response = null;
  try {
    response = await fetch(request);
    if (response.ok) {
      await cache.put(request, response.clone());
      return response;
    }
  } catch (e) {
    // offline: the copy below
  }
  const cached = (await cache.match(request, { ignoreSearch: true }))
    || (await cache.match(new URL('index.html', SCOPE).href));
  return answer(request, cached) || response || failure(503, 'offline, and this page was never opened on this browser');
}

/** A cached response for `request`. One stored under another URL (matched without the query)
 * is answered as a new response: a worker takes its location from its script response's URL, and
 * worker-boot.js reads which module to load from that location's query. */
function answer(request, cached) {
  if (!cached || cached.url === request.url) return cached;
  return new Response(cached.body, { status: cached.status, statusText: cached.statusText, headers: cached.headers });
}

/** The shell's hashed files never change under one name: the copy first. */
async function cacheFirst(request) {
  const cached = await caches.match(request, { ignoreSearch: true });
  return answer(request, cached) || fetch(request);
}

self.addEventListener('install', event => {
  event.waitUntil((async () => {
    const shell = await caches.open(SHELL);
    await shell.addAll(MANIFEST.shell.map(f => new URL(f, SCOPE).href));
    // The first screen's data and models, so that a second visit opens offline even though the
    // first one fetched them before this worker was in control.
    for (const rel of MANIFEST.first) {
      const response = await verified(rel);
      if (!response.ok) throw new Error(`${rel}: ${response.status} ${response.statusText}`);
    }
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', event => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('mnist-lab-shell-') && name !== SHELL) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', event => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const rel = relative(request.url);
  if (rel === null) return;
  if (Object.prototype.hasOwnProperty.call(MANIFEST.hashes, rel)) {
    event.respondWith(verified(rel));
  } else if (request.mode === 'navigate' || rel === '' || rel === 'index.html' || rel === 'init.js') {
    event.respondWith(networkFirst(request));
  } else {
    event.respondWith(cacheFirst(request));
  }
});
