// Trunk post-build step (run by scripts/post-build.mjs, after the loader is moved out of
// index.html): writes a brotli (quality 11) and a gzip (level 9) copy beside every text file and
// the wasm, so the server sends files compressed once at build time at the best level instead
// of compressing them on every request at a fast one. Prints the sizes of the wasm.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error('precompress: TRUNK_STAGING_DIR is not set (run me as a Trunk hook)');
  process.exit(1);
}

// Fonts and images are compressed already; tiny files gain nothing. `.bin`: the packs of lazily
// loaded wasm modules (scripts/pack-wasm.mjs).
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.wasm', '.bin', '.svg', '.json', '.txt', '.webmanifest']);
const SMALLEST = 256;

function* files(root) {
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    const full = path.join(root, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else if (entry.isFile()) yield full;
  }
}

let count = 0;
for (const file of files(dir)) {
  if (!COMPRESSIBLE.has(path.extname(file))) continue;
  const body = fs.readFileSync(file);
  // Every wasm module and pack gets its copies (the size check and the server expect them).
  if (body.length < SMALLEST && !['.wasm', '.bin'].includes(path.extname(file))) continue;
  const br = zlib.brotliCompressSync(body, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_LGWIN]: 24,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length,
    },
  });
  const gz = zlib.gzipSync(body, { level: 9 });
  fs.writeFileSync(`${file}.br`, br);
  fs.writeFileSync(`${file}.gz`, gz);
  count += 1;
  if (file.endsWith('_bg.wasm')) {
    console.log(
      `precompress: ${path.basename(file)}: ${body.length} B, brotli ${br.length} B, gzip ${gz.length} B`,
    );
  }
}
console.log(`precompress: ${count} files written as .br and .gz`);
