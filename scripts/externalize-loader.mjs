// Trunk post-build hook: moves the inline module script Trunk writes into index.html (the wasm
// loader) into its own file, so the app runs under a Content Security Policy with no inline
// scripts (`script-src 'self' 'wasm-unsafe-eval'`). The file is named by its content hash, like
// Trunk's own output, so it can be cached for ever.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error('externalize-loader: TRUNK_STAGING_DIR is not set (run me as a Trunk hook)');
  process.exit(1);
}
const indexPath = path.join(dir, 'index.html');
const html = fs.readFileSync(indexPath, 'utf8');
const inline = /<script type="module">([\s\S]*?)<\/script>/;
const found = html.match(inline);
if (!found) {
  console.error('externalize-loader: no inline module script found in index.html');
  process.exit(1);
}
const code = found[1].trim() + '\n';
const hash = crypto.createHash('sha256').update(code).digest('hex').slice(0, 16);
const name = `boot-${hash}.js`;
fs.writeFileSync(path.join(dir, name), code);
const integrity = 'sha384-' + crypto.createHash('sha384').update(code).digest('base64');
const rewritten = html.replace(
  inline,
  `<script type="module" src="/${name}" integrity="${integrity}" crossorigin="anonymous"></script>`,
);
if (/<script(?![^>]*\ssrc=)[^>]*>/.test(rewritten)) {
  console.error('externalize-loader: an inline script is still in index.html');
  process.exit(1);
}
fs.writeFileSync(indexPath, rewritten);
console.log(`externalize-loader: loader moved to /${name}`);
