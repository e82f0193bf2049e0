// Region benchmarks over the API on loopback (scripts/bench_phone_region.sh runs them):
//
//   sync   A new device's first sync — requests, bytes over the wire and the sum of the
//          requests' times, paging with `since=cursor` until `more` is false — for each person
//          given, on the region's database and on a database of their own team alone; the
//          ratio of the server times (goal ≤ 1.3×) and the requests against ⌈records/1000⌉+1.
//   polls  A device polling with nothing new (its cursor at the head), with wrk at several
//          connection counts, beside GET /api/version at the same count: req/s, p50 and p99.
//
//   node scripts/bench_sync.mjs sync --person "LABEL|EMAIL|PASSWORD|REGION_URL|ALONE_URL" … [--runs 5]
//   node scripts/bench_sync.mjs polls --target "LABEL|EMAIL|PASSWORD|URL|4,8,16,32,64" … [--seconds 10]
import { spawnSync } from 'node:child_process';
import { commandLine, signIn, firstSync, median, fmtInt, fmtMs, fmtKB, saveResult } from './bench_common.mjs';

const { stage, repeated, option } = commandLine();


/** One new device's first sync (a fresh sign-in, so a new session and device). */
async function newDevice(baseUrl, email, password) {
  const session = await signIn(baseUrl, email, password);
  const sync = await firstSync(baseUrl, session.cookie);
  return sync;
}

async function syncStage() {
  const runs = Number(option('runs', 5));
  for (const spec of repeated('person')) {
    const [label, email, password, regionUrl, aloneUrl, regionName = 'the region', aloneName = 'alone'] = spec.split('|');
    // One untimed sync on each first (warms the servers' and the database's caches), then the
    // runs, alternating between the two databases so that drift affects both alike.
    await newDevice(regionUrl, email, password);
    await newDevice(aloneUrl, email, password);
    const region = [];
    const alone = [];
    for (let i = 0; i < runs; i++) {
      region.push(await newDevice(regionUrl, email, password));
      alone.push(await newDevice(aloneUrl, email, password));
    }
    const sum = (list) => ({
      requests: list[0].requests,
      records: list[0].records,
      wireBytes: median(list.map((r) => r.wireBytes)),
      bodyBytes: median(list.map((r) => r.bodyBytes)),
      ms: median(list.map((r) => r.ms)),
      runs: list.map((r) => Math.round(r.ms * 10) / 10),
    });
    const a = sum(region);
    const b = sum(alone);
    for (const [where, s] of [[regionName, a], [aloneName, b]]) {
      console.log(
        `BENCH first-sync ${label}, ${where}: ${s.requests} requests, ${fmtInt(s.records)} records, ${fmtKB(s.wireBytes)} over the wire ` +
          `(${fmtKB(s.bodyBytes)} of JSON), server time ${fmtMs(s.ms)} median of ${runs} (${s.runs.map((ms) => fmtMs(ms)).join(', ')})`,
      );
    }
    if (a.records !== b.records) {
      console.log(`BENCH first-sync ${label}: WARNING the two databases gave ${a.records} and ${b.records} records: the comparison is not like for like`);
    }
    const ratio = a.ms / b.ms;
    const goalRequests = Math.ceil(a.records / 1000) + 1;
    console.log(
      `BENCH first-sync ${label}: server time ${regionName} / ${aloneName} ${ratio.toFixed(2)}× (goal ≤ 1.3×) ${ratio <= 1.3 ? '✔' : '✘'}; ` +
        `requests ${a.requests} vs ⌈${fmtInt(a.records)}/1000⌉+1 = ${goalRequests} ${a.requests <= goalRequests ? '✔' : '✘'}`,
    );
    saveResult('sync', { label, email, regionName, aloneName, runs, region: a, alone: b, ratio, goalRequests });
  }
}

/** wrk's figures: { rps, p50, p99 } (milliseconds), failing on errors or non-2xx answers. */
function wrk(url, connections, seconds, cookie) {
  const args = ['-t', String(Math.min(2, connections)), '-c', String(connections), '-d', `${seconds}s`, '--latency'];
  if (cookie) args.push('-H', `cookie: ${cookie}`);
  args.push(url);
  const run = spawnSync('wrk', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`wrk ${args.join(' ')} failed: ${run.stderr || run.stdout}`);
  const out = run.stdout;
  const bad = out.match(/Non-2xx or 3xx responses: (\d+)/);
  if (bad) throw new Error(`wrk on ${url}: ${bad[1]} answers were not 2xx:\n${out}`);
  const errors = out.match(/Socket errors: .*/);
  const rps = Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1]);
  const toMs = (value, unit) => Number(value) * { us: 0.001, ms: 1, s: 1000 }[unit];
  const pct = (p) => {
    const m = out.match(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm'));
    return m ? toMs(m[1], m[2]) : NaN;
  };
  if (!Number.isFinite(rps)) throw new Error(`cannot read wrk's output:\n${out}`);
  return { rps, p50: pct(50), p99: pct(99), socketErrors: errors ? errors[0] : null };
}

const fmtLatency = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);

async function pollsStage() {
  const seconds = Number(option('seconds', 10));
  for (const spec of repeated('target')) {
    const [label, email, password, baseUrl, counts] = spec.split('|');
    const session = await signIn(baseUrl, email, password);
    const { cursor, records } = await firstSync(baseUrl, session.cookie);
    const pullUrl = `${baseUrl}/api/sync/pull?since=${cursor}`;
    const versionUrl = `${baseUrl}/api/version`;
    // Warm up both routes.
    wrk(pullUrl, 8, 2, session.cookie);
    wrk(versionUrl, 8, 2);
    for (const c of counts.split(',').map(Number)) {
      const pull = wrk(pullUrl, c, seconds, session.cookie);
      const version = wrk(versionUrl, c, seconds);
      const ratio = pull.rps / version.rps;
      console.log(
        `BENCH poll-nothing-new ${label}, ${c} connections: ${fmtInt(pull.rps)} req/s (p50 ${fmtLatency(pull.p50)}, p99 ${fmtLatency(pull.p99)}) · ` +
          `GET /api/version ${fmtInt(version.rps)} req/s (p50 ${fmtLatency(version.p50)}, p99 ${fmtLatency(version.p99)}) · ratio ${ratio.toFixed(2)}` +
          `${pull.socketErrors ? ` · pull ${pull.socketErrors}` : ''}${version.socketErrors ? ` · version ${version.socketErrors}` : ''}`,
      );
      saveResult('polls', { label, email, records, connections: c, seconds, pull, version, ratio });
    }
  }
}

if (stage === 'sync') await syncStage();
else if (stage === 'polls') await pollsStage();
else {
  console.error('usage: node scripts/bench_sync.mjs sync|polls …');
  process.exit(2);
}
