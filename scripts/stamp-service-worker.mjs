// Trunk post-build hook step: writes the build's fingerprint into the service worker. Browsers
// install a new service worker only when its script changes; sw.js itself is the same from one
// release to the next, so without this a new release was never kept for working offline until
// sw.js happened to change. The fingerprint is a hash of index.html as finally written, which
// names every file of the build by its content.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const dir = process.env.TRUNK_STAGING_DIR ?? process.argv[2];
if (!dir) {
  console.error('stamp-service-worker: TRUNK_STAGING_DIR is not set (run me as a Trunk hook)');
  process.exit(1);
}
const worker = path.join(dir, 'sw.js');
if (!fs.existsSync(worker)) {
  console.error(`stamp-service-worker: no sw.js in ${dir}`);
  process.exit(1);
}
const build = crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, 'index.html'))).digest('hex').slice(0, 16);
const code = fs.readFileSync(worker, 'utf8').replace(/\n*\/\/ Build: [0-9a-f]+\n$/, '\n');
fs.writeFileSync(worker, `${code}\n// Build: ${build}\n`);
console.log(`stamp-service-worker: sw.js stamped with build ${build}`);
