// Shared parts of the region and phone benchmarks (scripts/bench_phone_region.sh): an HTTP client
// on loopback that times each request and counts the bytes that went over the wire, signing in,
// pushing in batches that must all apply, pulling a new device's first sync, UUID v5 (the app's
// derived ids), medians, and the stage results each module leaves for the summary.
import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

/** The app's own header on every state-changing API request (server::APP_HEADER). */
export const APP_HEADER = { 'x-requested-with': 'mdt-app' };

/** What a browser asks for; the server compresses API answers (tower-http) when asked. */
const ACCEPT_ENCODING = 'br, gzip';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * One request: { status, headers, json, text, wireBytes (body as sent), bodyBytes (decoded),
 * ms (from sending to the last byte, before decoding) }.
 */
export function request(baseUrl, method, pathAndQuery, { cookie, body, headers = {} } = {}) {
  const url = new URL(pathAndQuery, baseUrl);
  const payload = body === undefined ? null : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = http.request(
      url,
      {
        method,
        agent,
        headers: {
          'accept-encoding': ACCEPT_ENCODING,
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          ...(method === 'GET' || method === 'HEAD' ? {} : APP_HEADER),
          ...(cookie ? { cookie } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          const raw = Buffer.concat(chunks);
          let decoded = raw;
          const encoding = res.headers['content-encoding'];
          try {
            if (encoding === 'br') decoded = zlib.brotliDecompressSync(raw);
            else if (encoding === 'gzip') decoded = zlib.gunzipSync(raw);
            else if (encoding === 'deflate') decoded = zlib.inflateSync(raw);
          } catch (e) {
            reject(new Error(`${method} ${url.pathname}: cannot decode the ${encoding} body: ${e.message}`));
            return;
          }
          const text = decoded.toString('utf8');
          let json = null;
          if ((res.headers['content-type'] ?? '').includes('json') && text) {
            try {
              json = JSON.parse(text);
            } catch {
              json = null;
            }
          }
          resolve({ status: res.statusCode, headers: res.headers, json, text, wireBytes: raw.length, bodyBytes: decoded.length, ms });
        });
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** Throws with the server's own reason unless the answer has the expected status. */
export function expectStatus(answer, status, what) {
  if (answer.status !== status) {
    const reason = answer.json?.error ?? answer.text.slice(0, 500);
    throw new Error(`${what}: HTTP ${answer.status} (expected ${status}): ${reason}`);
  }
  return answer;
}

/** Signs in; returns { cookie: 'mdt_session=…', user: CurrentUser }. */
export async function signIn(baseUrl, email, password) {
  const answer = expectStatus(await request(baseUrl, 'POST', '/api/session', { body: { email, password } }), 200, `sign in as ${email}`);
  const setCookie = [answer.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('mdt_session='));
  if (!setCookie) throw new Error(`sign in as ${email}: no session cookie in the answer`);
  return { cookie: setCookie.split(';')[0], user: answer.json };
}

/**
 * A device of a signed-in person that pushes mutations in order (its own sequence numbers) and
 * remembers the version the server gave each record, so later changes name the right base.
 */
export class Device {
  constructor(baseUrl, session, versions = new Map()) {
    this.baseUrl = baseUrl;
    this.cookie = session.cookie;
    this.user = session.user;
    this.id = crypto.randomUUID();
    this.seq = 0;
    this.versions = versions;
    this.queue = [];
    this.pushes = 0;
    this.applied = 0;
  }

  /** Queues writing `fields` to record `id` of `entity` (a new record when never written). */
  put(entity, id, fields) {
    this.queue.push({ entity, id, fields });
  }

  /**
   * Sends everything queued, at most `max` mutations (the server's limit is 500) and about
   * 1.5 MB a push; every mutation must be applied, else this throws with the server's reason.
   */
  async flush(max = 500) {
    while (this.queue.length > 0) {
      const batch = [];
      let bytes = 0;
      while (this.queue.length > 0 && batch.length < max) {
        const next = this.queue[0];
        const size = JSON.stringify(next.fields).length + 300;
        if (batch.length > 0 && bytes + size > 1_500_000) break;
        bytes += size;
        batch.push(this.queue.shift());
      }
      const mutations = batch.map(({ entity, id, fields }) => ({
        mutation_id: crypto.randomUUID(),
        seq: ++this.seq,
        entity,
        id,
        base_version: this.versions.get(id) ?? 0,
        op: { kind: 'update', fields },
      }));
      const answer = expectStatus(
        await request(this.baseUrl, 'POST', '/api/sync/push', { cookie: this.cookie, body: { device_id: this.id, mutations } }),
        200,
        `push of ${mutations.length} changes as ${this.user.email}`,
      );
      this.pushes += 1;
      const results = answer.json?.results ?? [];
      if (results.length !== mutations.length) {
        throw new Error(`push as ${this.user.email}: ${results.length} answers for ${mutations.length} changes`);
      }
      results.forEach((result, i) => {
        const m = mutations[i];
        if (result.status !== 'applied') {
          throw new Error(
            `push as ${this.user.email}: change ${i + 1} of ${mutations.length} (${m.entity} ${m.id}, base version ${m.base_version}, fields ${Object.keys(m.op.fields).join(', ')}) was ${result.status}: ${result.reason ?? JSON.stringify(result)}`,
          );
        }
        this.versions.set(m.id, result.version);
      });
      this.applied += mutations.length;
    }
  }
}

/**
 * A new device's first sync: pulls from cursor 0 until `more` is false. Returns { requests,
 * wireBytes, bodyBytes, ms (sum of the requests' times), records, cursor }.
 */
export async function firstSync(baseUrl, cookie) {
  let cursor = 0;
  const out = { requests: 0, wireBytes: 0, bodyBytes: 0, ms: 0, records: 0, cursor: 0, ids: new Set() };
  for (;;) {
    const answer = expectStatus(await request(baseUrl, 'GET', `/api/sync/pull?since=${cursor}`, { cookie }), 200, `pull since ${cursor}`);
    out.requests += 1;
    out.wireBytes += answer.wireBytes;
    out.bodyBytes += answer.bodyBytes;
    out.ms += answer.ms;
    for (const r of answer.json.records) out.ids.add(r.id);
    out.records += answer.json.records.length;
    cursor = answer.json.cursor;
    if (!answer.json.more) break;
    if (out.requests > 10000) throw new Error('the first sync did not end after 10,000 requests');
  }
  out.cursor = cursor;
  return out;
}

/** UUID version 5 (SHA-1) of `name` (bytes) in `namespace` (a UUID string), as Rust's uuid crate. */
export function uuidV5(namespace, name) {
  const hash = crypto.createHash('sha1').update(Buffer.from(namespace.replace(/-/g, ''), 'hex')).update(name).digest();
  const b = Buffer.from(hash.subarray(0, 16));
  b[6] = (b[6] & 0x0f) | 0x50;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const uuidBytes = (id) => Buffer.from(id.replace(/-/g, ''), 'hex');

/** core::brief::brief_id_for: the one brief of an agenda item. */
export const briefIdFor = (item) => uuidV5('6d647462-7269-6566-666f-726974656d01', uuidBytes(item));
/** core::agenda::actions_review_id: the automatic "review of open actions" item of a meeting. */
export const actionsReviewIdFor = (meeting) => uuidV5('6d647461-6374-696f-6e72-657669657701', uuidBytes(meeting));

/** The median of numbers (the middle one; the lower middle of an even count). */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export const fmtInt = (n) => Math.round(n).toLocaleString('en-GB');
export const fmtMs = (ms) => (ms >= 100 ? `${Math.round(ms).toLocaleString('en-GB')} ms` : `${ms.toFixed(1)} ms`);
export const fmtKB = (bytes) =>
  bytes >= 1e6 ? `${(bytes / 1e6).toFixed(2)} MB` : `${(bytes / 1000).toFixed(bytes >= 100000 ? 0 : 1)} KB`;

/** Appends a stage's result (an object) to MDT_BENCH_RESULTS (a JSON-lines file) for the summary. */
export function saveResult(stage, result) {
  const file = process.env.MDT_BENCH_RESULTS;
  if (!file) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, `${JSON.stringify({ stage, ...result })}\n`);
}

/** Every result saved so far, in order. */
export function loadResults(file = process.env.MDT_BENCH_RESULTS) {
  if (!file || !fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

/** Reads `--name value` pairs of the command line. */
export function args(argv = process.argv.slice(2)) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) throw new Error(`unexpected argument ${argv[i]}`);
    const name = argv[i].slice(2);
    const value = argv[i + 1] === undefined || argv[i + 1].startsWith('--') ? 'true' : argv[++i];
    out[name] = value;
  }
  return out;
}

/**
 * A benchmark script's command line: `stage --name value …`. `repeated(name)` is every value of
 * `--name`, `option(name, fallback)` the last one.
 */
export function commandLine(argv = process.argv.slice(2)) {
  const [stage, ...rest] = argv;
  const repeated = (name) => {
    const out = [];
    for (let i = 0; i < rest.length; i++) if (rest[i] === `--${name}`) out.push(rest[++i]);
    return out;
  };
  return { stage, repeated, option: (name, fallback) => repeated(name).at(-1) ?? fallback };
}
