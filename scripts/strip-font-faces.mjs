// Trunk post-build hook step: takes the NHS font's @font-face rules out of the NHS design
// system's stylesheet. nhsuk-frontend (MIT) points them at https://assets.nhs.uk/fonts/, whose
// Frutiger files are licensed to NHS England for its own services and are not in the package,
// and the app's Content Security Policy allows fonts from its own origin only: every page load
// asked for four files the browser then refused (four console errors, never used). Without the
// rules nothing is asked for, and text uses the design system's own fallback stack
// ("Frutiger W01", arial, sans-serif: the font where it is installed, else Arial), exactly as
// it was shown before. nhsuk-frontend's Sass setting for this ($nhsuk-include-font-face:
// false) would need a Sass build of the whole stylesheet; the rules are removed from the
// built file instead, and the file renamed by its new content and its integrity value redone.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const dir = process.env.TRUNK_STAGING_DIR ?? process.argv[2];
const fail = (message) => {
  console.error(`strip-font-faces: ${message}`);
  process.exit(1);
};
if (!dir) fail('TRUNK_STAGING_DIR is not set (run me as a Trunk hook, or pass the directory)');
const indexPath = path.join(dir, 'index.html');
let html = fs.readFileSync(indexPath, 'utf8');
const link = html.match(/<link rel="stylesheet" href="\/(nhsuk-frontend\.min-[0-9a-f]+\.css)" integrity="[^"]*"\/?>/);
if (!link) fail('index.html links no nhsuk-frontend.min-<hash>.css with an integrity value');
const [tag, file] = link;
const css = fs.readFileSync(path.join(dir, file), 'utf8');
// Each rule is flat (no nested braces) in the minified file.
const faces = css.match(/@font-face\{[^{}]*\}/g) ?? [];
const external = faces.filter((rule) => /url\((["']?)https?:/.test(rule));
const stripped = external.reduce((text, rule) => text.split(rule).join(''), css);
if (/url\((["']?)https?:/.test(stripped)) fail('the stylesheet still asks for something from another site');
const hash = crypto.createHash('sha256').update(stripped).digest('hex').slice(0, 16);
const name = `nhsuk-frontend.min-${hash}.css`;
fs.rmSync(path.join(dir, file));
fs.writeFileSync(path.join(dir, name), stripped);
const integrity = 'sha384-' + crypto.createHash('sha384').update(stripped).digest('base64');
html = html.replace(tag, `<link rel="stylesheet" href="/${name}" integrity="${integrity}"/>`);
fs.writeFileSync(indexPath, html);
console.log(`strip-font-faces: ${external.length} @font-face rules for other sites removed (/${name})`);
