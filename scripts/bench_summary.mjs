// The summary of a run of scripts/bench_phone_region.sh: every stage's results (the JSON lines
// in MDT_BENCH_RESULTS) as Markdown tables ready for BENCHMARKS.md.
//
//   MDT_BENCH_RESULTS=… node scripts/bench_summary.mjs --teams N --records R --binary PATH
import { args, loadResults, fmtInt, fmtMs, fmtKB } from './bench_common.mjs';

const a = args();
const results = loadResults();
const of = (stage) => results.filter((r) => r.stage === stage);
const lines = [];
const out = (s = '') => lines.push(s);
const ok = (good) => (good ? '✔' : '✘');
const latency = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);

out(`### Region and phone benchmark (issue 27): ${a.teams} teams of about ${fmtInt(Number(a.records))} records on PostgreSQL`);
out();
out(`Measured ${new Date().toISOString().slice(0, 10)} by \`./scripts/bench_phone_region.sh\` (\`${a.binary}\`; ${a.only ?? 'every stage'}).`);

const loads = of('load');
if (loads.length) {
  out();
  out('**Loading through the push API** (accounts by the admin API, records by each person\'s pushes of up to 500 changes):');
  out();
  out('| database | teams | records | changes applied | pushes | time | changes/s |');
  out('|---|---:|---:|---:|---:|---:|---:|');
  for (const l of loads) out(`| ${l.label} | ${l.teams} | ${fmtInt(l.records)} | ${fmtInt(l.changes)} | ${fmtInt(l.pushes)} | ${l.seconds.toFixed(1)} s | ${fmtInt(l.changes / l.seconds)} |`);
}

const syncs = of('sync');
if (syncs.length) {
  out();
  out(`**A new device's first sync** (pages of \`GET /api/sync/pull?since=cursor\` until \`more\` is false, loopback; server time = the sum of the requests' times measured by the client; median of ${syncs[0].runs} new devices, alternating databases):`);
  out();
  out('| person | database | requests (goal ≤ ⌈records/1000⌉+1) | records | over the wire (JSON) | server time | region / alone (goal ≤ 1.3×) |');
  out('|---|---|---:|---:|---:|---:|---:|');
  for (const s of syncs) {
    out(`| ${s.label} | ${s.regionName} | ${s.region.requests} (${s.goalRequests}) ${ok(s.region.requests <= s.goalRequests)} | ${fmtInt(s.region.records)} | ${fmtKB(s.region.wireBytes)} (${fmtKB(s.region.bodyBytes)}) | ${fmtMs(s.region.ms)} | **${s.ratio.toFixed(2)}×** ${ok(s.ratio <= 1.3)} |`);
    out(`| | ${s.aloneName} | ${s.alone.requests} | ${fmtInt(s.alone.records)} | ${fmtKB(s.alone.wireBytes)} (${fmtKB(s.alone.bodyBytes)}) | ${fmtMs(s.alone.ms)} | |`);
  }
}

const polls = of('polls');
if (polls.length) {
  out();
  out(`**Polls with nothing new** (wrk \`--latency\`, ${polls[0].seconds} s each after a warm-up; a signed-in device whose cursor is at the head, beside \`GET /api/version\` at the same connection count):`);
  out();
  out('| engine | connections | pull req/s | p50 | p99 | /api/version req/s | p50 | p99 | ratio |');
  out('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const p of polls) {
    out(`| ${p.label} | ${p.connections} | ${fmtInt(p.pull.rps)} | ${latency(p.pull.p50)} | ${latency(p.pull.p99)} | ${fmtInt(p.version.rps)} | ${latency(p.version.p50)} | ${latency(p.version.p99)} | ${p.ratio.toFixed(2)} |`);
  }
}

const phones = of('browser');
if (phones.length) {
  const p = phones.at(-1);
  out();
  out(`**First sync in the browser on slow 4G** (headless Chromium, DevTools emulation: 150 ms, 1.6 Mbit/s down, 750 kbit/s up; a fresh context each run, service workers blocked; from the click on "Sign in", once the app has taken over the page, to "Online · all changes saved"; and, signing in as soon as the form shows, from opening the page; median of ${p.runs}; ${p.email}):`);
  out();
  out('| database | up to date after the click | runs | requests (API) | over the wire | sign-in form shown after | the app after | signing in at once: up to date after opening |');
  out('|---|---:|---|---:|---:|---:|---:|---:|');
  const ms = (v) => (v == null ? '' : fmtMs(v));
  for (const label of p.servers) {
    const m = p.medians[label];
    out(`| ${label} | ${fmtMs(m.syncMs)} | ${m.runs.map((v) => fmtMs(v)).join(', ')} | ${m.requests} (${m.api}) | ${fmtKB(m.bytes)} | ${fmtMs(m.formMs)} | ${ms(m.appMs)} | ${ms(m.atOnceMs)} |`);
  }
  if (p.servers.length === 2) {
    const [x, y] = p.servers.map((l) => p.medians[l].syncMs);
    out(`| ratio | ${(x / y).toFixed(2)}× | | | | | | |`);
  }
}

const pages = of('pages');
if (pages.length) {
  const p = pages.at(-1);
  out();
  out(`**First opening of a page on slow 4G** (signed in and up to date on the home page, then a link followed inside the app; requests and time until the page's heading shows; a fresh context each; median of ${p.runs}; ${p.server}):`);
  out();
  out('| page | heading after | runs | requests | over the wire |');
  out('|---|---:|---|---:|---:|');
  for (const [name, m] of Object.entries(p.medians)) {
    out(`| ${name}${m.readyMs === null ? '' : ` (figures after ${fmtMs(m.readyMs)})`} | ${fmtMs(m.headingMs)} | ${m.runs.map((ms) => fmtMs(ms)).join(', ')} | ${m.requests} | ${fmtKB(m.bytes)} |`);
  }
}

const lh = of('lighthouse');
if (lh.length) {
  out();
  out(`**Lighthouse ${lh[0].version}** (Debian's Chromium, a fresh profile each run; mobile: Lighthouse's default simulated throttling; desktop: \`--preset=desktop\`; medians of ${lh[0].runs.length}):`);
  out();
  out('| | page | performance | LCP | TBT | best practices |');
  out('|---|---|---:|---:|---:|---:|');
  for (const r of lh) out(`| ${r.formFactor} | ${r.page} | ${r.performance} | ${fmtMs(r.lcp)} | ${fmtMs(r.tbt)} | ${r.bestPractices} |`);
  const failed = lh.filter((r) => r.failedAudits.length > 0);
  if (failed.length) {
    out();
    out(`Best-practices audits not passed: ${failed.map((r) => `${r.formFactor} ${r.page}: ${r.failedAudits.map((f) => `\`${f}\``).join(', ')}`).join('; ')}.`);
  }
}

console.log(lines.join('\n'));
