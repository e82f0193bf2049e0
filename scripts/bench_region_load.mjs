// Loads synthetic teams into a running server THROUGH ITS API, as the app would write them: a
// site administrator makes each team's accounts (POST /api/admin/accounts), each person signs
// in, and every record goes through POST /api/sync/push (at most 500 changes a push), written by
// the person the write table (docs/write-permissions.md) lets write it — the coordinator sets up
// the team, its meetings, patients, agenda, briefs and actions; each owner accepts, declines or
// completes their own actions (the coordinator answers for the one member without an account).
// Every change must be applied: anything else stops the load with the server's reason.
//
// A team t (0, 1, …) of about R records: 3 organisations; a coordinator and three members with
// accounts (GP, social worker, district nurse) and a care navigator without one; weekly
// meetings on one weekday at 13:00 UK time, R/55 held and concluded over the past months and 4
// to come (the first a week away, so its agenda is open); synthetic patients (NHS numbers in
// the 999 range with valid Modulus 11 check digits, a block of numbers per team); patient items
// (one in twenty safeguarding-restricted), SBAR briefs, an actions review on every meeting;
// actions with their history, done, accepted, overdue, declined or cancelled by how long ago
// they were agreed. Deterministic per team and R (a seeded generator), apart from the ids.
//
//   node scripts/bench_region_load.mjs --base http://127.0.0.1:PORT --teams 0-99 --records 2000
//     [--jobs 4] [--admin-email E --admin-password P]
import { fileURLToPath } from 'node:url';
import crypto from 'node:crypto';
import { Device, request, expectStatus, signIn, actionsReviewIdFor, briefIdFor, args, fmtInt, saveResult } from './bench_common.mjs';
import { ukDate, ukInstant, addDays, weekdayOf } from '../tests/e2e/helpers.mjs';

/** The password of every account the benchmark makes. */
export const BENCH_PASSWORD = 'bench-password-2026';
/** The site administrator the shell script adds with `mdt-server user add --site-admin`. */
export const BENCH_ADMIN = { email: 'bench.admin@example.nhs.net', name: 'Bench Admin' };

const pad = (t) => String(t).padStart(3, '0');

/** The accounts of team t: its coordinator and members (the social worker is the one measured). */
export function teamAccounts(t) {
  const at = (who) => `t${pad(t)}.${who}@bench.example.nhs.net`;
  return {
    coordinator: { email: at('coordinator'), name: `Cass Coordinator ${pad(t)}`, role: 'practice_manager', org: 'practice' },
    gp: { email: at('gp'), name: `Dr Gale Practitioner ${pad(t)}`, role: 'gp', org: 'practice' },
    social: { email: at('social'), name: `Sam Socialworker ${pad(t)}`, role: 'social_worker', org: 'council' },
    nurse: { email: at('nurse'), name: `Nia Districtnurse ${pad(t)}`, role: 'district_nurse', org: 'trust' },
  };
}

/** The member whose first sync the benchmark measures (team 0's social worker). */
export const measuredMember = (t = 0) => teamAccounts(t).social.email;

// A small seeded generator (mulberry32), so a team is the same on every run.
function generator(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return { next, pick: (list) => list[Math.floor(next() * list.length)], int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)) };
}

/** Synthetic NHS numbers of team t: the 999 range, valid Modulus 11 check digits, 2,000 a team. */
export function* teamNhsNumbers(t) {
  const BLOCK = 2200;
  for (let k = t * BLOCK; k < (t + 1) * BLOCK && k < 1_000_000; k++) {
    const nine = `999${String(k).padStart(6, '0')}`;
    const sum = [...nine].reduce((s, d, i) => s + Number(d) * (10 - i), 0);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    yield `${nine}${check === 11 ? 0 : check}`;
  }
}

const FIRST = ['Ada', 'Bea', 'Cora', 'Dev', 'Eli', 'Fay', 'Gus', 'Hal', 'Ivy', 'Jon', 'Kit', 'Lou', 'Mo', 'Ned', 'Ona', 'Pip', 'Rae', 'Sid', 'Tess', 'Vi'];
const LAST = ['Synthetic', 'Example', 'Placeholder', 'Sample', 'Testcase', 'Dummy', 'Fictional', 'Madeup', 'Specimen', 'Mockley'];
const REASONS = [
  'Two falls in the last month, one needing an ambulance',
  'Carer breakdown: daughter can no longer manage the evening calls',
  'Frailty score worsening; three admissions this year',
  'New diagnosis of heart failure, struggling with the medicines',
  'Leg ulcer not healing after twelve weeks of dressings',
  'Low mood and isolation since bereavement',
  'Approaching the end of life; wishes not yet recorded',
  'Pressure damage noticed by the district nurses',
];
const QUESTIONS = [
  'Does the care package need review?',
  'Who should lead an advance care plan conversation?',
  'Is a referral to the falls service the right next step?',
  'Can the team agree a plan to avoid another admission?',
  'Should social care assess for respite?',
  'Is a medicines review needed before discharge planning?',
];
const SITUATIONS = [
  'Lives alone in a first-floor flat; daily carer visits in the morning only. Reported dizziness on standing.',
  'Lives with spouse who has early dementia; both rely on a neighbour for shopping and appointments.',
  'Recently discharged after a chest infection; mobility reduced and now needs a frame indoors.',
  'Housebound; seen weekly by the district nurses for dressings. Appetite poor, weight down 4 kg.',
];
const BACKGROUNDS = [
  'Type 2 diabetes, atrial fibrillation on anticoagulation, osteoarthritis of both knees. Eleven regular medicines.',
  'COPD with two exacerbations this winter, chronic kidney disease stage 3, hearing loss.',
  'Parkinson’s disease for eight years, postural hypotension, constipation. Previously independent.',
  'Heart failure with reduced ejection fraction, type 2 diabetes, previous stroke with mild left weakness.',
];
const ASSESSMENTS = [
  'Risk of further falls is high; home environment has trip hazards; carer hours insufficient at night.',
  'Deteriorating slowly; patient wants to stay at home; family under strain but supportive.',
  'Medicines burden is high and adherence uncertain; blister packs not yet tried.',
  'Skin integrity poor; needs pressure-relieving equipment and a review of nutrition.',
];
const REQUESTS = [
  'Agree who reviews the care package and whether a falls referral is needed.',
  'Decide on a lead for the advance care planning conversation within two weeks.',
  'Ask the pharmacist for a structured medication review and blister packs.',
  'Consider a referral for respite and a carer’s assessment.',
];
const SERVICES = ['District nursing, adult social care (domiciliary care), GP', 'Community matron, hospice at home, GP', 'Falls service, occupational therapy, social prescribing'];
const RISKS = ['Falls; medicines not taken as prescribed', 'Carer breakdown; isolation', 'Pressure damage; poor nutrition', 'Unplanned admission; deterioration out of hours'];
const WISHES = ['Wishes to stay at home and avoid hospital if possible.', 'Would like family involved in decisions.', 'Prefers appointments in the morning; hard of hearing.'];
const DECISIONS = ['Refer to the falls service and review the care package', 'Start an advance care plan with the patient and family', 'Medication review by the practice pharmacist', 'Carer’s assessment and respite referral', 'Order a pressure-relieving mattress and dietitian referral'];
const ACTIONS = ['Refer to the falls service', 'Review the care package with the provider', 'Book a structured medication review', 'Arrange a carer’s assessment', 'Order a pressure-relieving mattress', 'Visit to start an advance care plan', 'Refer to the dietitian', 'Phone the family to update them'];
const NO_ACTION = ['Current plan is working; review only if things change', 'Already under the community matron; nothing more needed now'];
const NOTES = ['Referral sent and acknowledged', 'Done at the home visit; family informed', 'Completed; letter on the GP record', 'Equipment delivered and in use'];

// Words for free-text notes, so that briefs compress about as well as real writing does (a
// handful of fixed sentences would compress far better than anything people type).
const WORDS = `patient daughter son wife husband carer neighbour visit visits home flat stairs bathroom kitchen
bed chair frame stick wheelchair hoist commode rail fall falls dizzy dizziness tired weak pain knee hip back
chest breathless cough infection antibiotics tablets medicines blister pack dose morning evening night
appetite weight fluids drinks meals microwave shopping pension money bills post letters phone calls lonely
low mood anxious confused memory forgetful dementia diagnosis clinic hospital admission discharge ambulance
paramedic district nurse matron GP pharmacist therapist social worker navigator hospice respite package
hours agency review assessment referral waiting list appointment letter email phoned spoke agreed declined
wants wishes prefers worried upset settled improving worse stable better unchanged since last week month
yesterday today recently previously usually sometimes often never always again still already soon later
dressing ulcer leg wound skin pressure heel sacrum mattress cushion equipment delivered ordered arranged
cancelled rebooked missed attended seen reviewed checked bloods results blood pressure sugar oxygen
inhaler nebuliser catheter continence pads laundry cleaning garden dog cat church club lunch transport
taxi bus family plan goals priorities safety risk alarm pendant keysafe door heating cold warm damp
benefits attendance allowance blue badge power of attorney capacity consent advance care plan DNACPR
and the a to of with for on at in after before but not no has had was is are will would could should`
  .split(/\s+/)
  .filter(Boolean);

/** A sentence or two of notes: `min` to `max` words. */
function notes(rng, min, max) {
  const n = rng.int(min, max);
  if (n === 0) return '';
  const words = Array.from({ length: n }, () => rng.pick(WORDS));
  words[0] = words[0][0].toUpperCase() + words[0].slice(1);
  return `${words.join(' ')}.`;
}

/** Instants: an ISO string of a UK wall-clock time on a date. */
const at = (iso, time) => ukInstant(iso, time).toISOString();

/**
 * The changes that make team t of about `records` records, in the order they are pushed, as
 * phases: [{ who: 'coordinator' | 'gp' | …, changes: [{ entity, id, fields }] }]. `people` holds
 * each account's person id; `today` is the UK date (YYYY-MM-DD).
 */
export function planTeam(t, records, people, today, nowMs = Date.now()) {
  const rng = generator(0x5eed + t * 7919);
  const id = () => crypto.randomUUID();
  const teamId = id();
  const orgs = { practice: id(), council: id(), trust: id() };
  const navigator = id();
  const members = [people.gp, people.social, people.nurse, navigator];
  const owners = [people.coordinator, people.gp, people.social, people.nurse, navigator];
  const who = new Map([
    [people.coordinator, 'coordinator'],
    [people.gp, 'gp'],
    [people.social, 'social'],
    [people.nurse, 'nurse'],
    [navigator, 'coordinator'], // no account: the coordinator answers for them
  ]);
  const phases = [];
  const phase = (name) => {
    const p = { who: name, changes: [] };
    phases.push(p);
    return p.changes;
  };
  const put = (list, entity, recordId, fields) => list.push({ entity, id: recordId, fields });
  let count = 0;
  const created = new Set();
  // A record's first write (the plan counts records as it goes, below).
  const create = (list, entity, recordId, fields) => {
    if (created.has(recordId)) throw new Error(`${entity} ${recordId} made twice`);
    created.add(recordId);
    put(list, entity, recordId, fields);
  };

  // The directory: organisations, the account holders' own details (each writes their own),
  // the care navigator who cannot sign in (kept by the coordinator).
  const setup = phase('coordinator');
  create(setup, 'organisation', orgs.practice, { name: `Bench Surgery ${pad(t)}`, kind: 'gp_practice' });
  create(setup, 'organisation', orgs.council, { name: `Benchshire Council Adult Social Care ${pad(t)}`, kind: 'adult_social_care' });
  create(setup, 'organisation', orgs.trust, { name: `Benchshire Community Health Trust ${pad(t)}`, kind: 'community_trust' });
  const accounts = teamAccounts(t);
  const phone = (i) => `01632 96${t % 10} ${String(100 + i).padStart(3, '0')}`;
  Object.entries(accounts).forEach(([key, account], i) => {
    count += 1; // each account's own directory entry (made with the account)
    const list = key === 'coordinator' ? setup : phase(key);
    put(list, 'person', people[key], { organisation_id: orgs[account.org], phone: phone(i), last_confirmed: addDays(today, -rng.int(0, 60)) });
  });
  count += 3 + 1 + 1; // the organisations, the care navigator and the team (the accounts are counted above)
  const work = phase('coordinator');
  create(work, 'person', navigator, {
    name: `Nell Navigator ${pad(t)}`, role: 'care_navigator', organisation_id: orgs.practice, phone: phone(9),
    email: null, last_confirmed: addDays(today, -rng.int(0, 120)),
  });
  create(work, 'team', teamId, {
    name: `Bench Neighbourhood MDT ${pad(t)}`, coordinator_id: people.coordinator, member_ids: members, observer_ids: [],
    required_roles: [{ role: 'gp', count: 1 }, { role: 'social_worker', count: 1 }, { role: 'district_nurse', count: 1 }],
    default_minutes: 90, place: `Bench Surgery ${pad(t)}, meeting room 1`, video_link: null,
    agenda_cutoff_hours: 48, brief_cutoff_hours: 24, archived: false, observers_see_measures: false, email_people_without_accounts: false,
  });

  // Meetings: weekly on the team's weekday, the past ones held and concluded, four to come.
  const weekday = 1 + (t % 5);
  const past = Math.max(2, Math.round(records / 55));
  const future = 4;
  let last = addDays(today, -1);
  while (weekdayOf(last) !== weekday) last = addDays(last, -1);
  let next = addDays(today, 7);
  while (weekdayOf(next) !== weekday) next = addDays(next, 1);
  const meetings = [];
  const weeksAgo = (date) => Math.floor((Date.parse(today) - Date.parse(date)) / (7 * 86400000));
  for (let i = past - 1; i >= 0; i--) meetings.push({ date: addDays(last, -7 * i), held: true });
  for (let i = 0; i < future; i++) meetings.push({ date: addDays(next, 7 * i), held: false });
  for (const m of meetings) m.weeksAgo = weeksAgo(m.date);
  for (const m of meetings) {
    m.id = id();
    m.items = [];
    count += 2; // the meeting and its actions review
  }

  // The items, round the meetings, until the team has its records.
  const patients = [];
  const numbers = teamNhsNumbers(t);
  let k = 0;
  while (count < records) {
    const meeting = meetings[k % meetings.length];
    k += 1;
    const requester = rng.pick([people.gp, people.social, people.nurse]);
    let patient;
    if (patients.length === 0 || rng.next() < 0.7) {
      const nhs = numbers.next();
      if (nhs.done) throw new Error(`team ${t}: more than 2,000 patients; use fewer records a team`);
      patient = { id: id(), nhs: nhs.value, name: `${rng.pick(FIRST)} ${rng.pick(LAST)}`, born: `${rng.int(1925, 1962)}-${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`, lead: requester, objects: rng.next() < 0.04 };
      patients.push(patient);
      count += 1;
    } else {
      patient = rng.pick(patients);
    }
    const item = { id: id(), patient, requester, restricted: rng.next() < 0.05 };
    if (meeting.held) {
      item.decision = rng.next() < 0.75;
      item.brief = 'ready';
    } else {
      const r = rng.next();
      item.brief = r < 0.5 ? 'ready' : r < 0.8 ? 'draft' : null;
    }
    count += 1 + (item.brief ? 1 : 0);
    if (item.decision) {
      const owner = item.restricted ? requester : rng.pick(owners);
      const w = meeting.weeksAgo;
      const r = rng.next();
      let fate;
      if (r < 0.04) fate = 'cancelled';
      else if (r < 0.07 && owner !== navigator) fate = 'declined';
      else if (w > 6) fate = r < 0.88 ? 'done' : 'accepted';
      else if (w > 2) fate = r < 0.5 ? 'done' : r < 0.93 ? 'accepted' : 'proposed';
      else fate = r < 0.15 ? 'done' : r < 0.65 ? 'accepted' : 'proposed';
      item.action = { id: id(), owner, fate, description: rng.pick(ACTIONS), note: rng.pick(NOTES) };
      count += 1 + { proposed: 1, cancelled: 2, declined: 2, accepted: 2, done: 3 }[fate];
    }
    meeting.items.push(item);
  }

  for (const p of patients) {
    create(work, 'patient', p.id, {
      team_id: teamId, nhs_number: p.nhs, name: p.name, date_of_birth: p.born, registered_practice_id: orgs.practice,
      lead_professional_id: p.lead, objects_to_sharing: p.objects,
    });
  }
  const answers = new Map(); // who → changes they make afterwards (owners answering their actions)
  const later = (key) => {
    if (!answers.has(key)) answers.set(key, []);
    return answers.get(key);
  };
  const afterwards = []; // the coordinator's changes once every owner has answered
  const clampToNow = (iso) => new Date(Math.min(Date.parse(iso), nowMs - 60000)).toISOString();
  for (const meeting of meetings) {
    const starts = at(meeting.date, '13:00');
    const ends = at(meeting.date, '14:30');
    // A held meeting is planned a year ahead of when it happened (so its agenda is open, as it
    // was), its items discussed, then moved to its real date and concluded in one change.
    const plannedStart = meeting.held ? at(addDays(meeting.date, 364), '13:00') : starts;
    const plannedEnd = meeting.held ? at(addDays(meeting.date, 364), '14:30') : ends;
    create(work, 'meeting', meeting.id, { team_id: teamId, starts_at: plannedStart, ends_at: plannedEnd, place: `Bench Surgery ${pad(t)}, meeting room 1`, video_link: null, status: 'planned' });
    meeting.items.forEach((item, i) => {
      const requestedOn = addDays(meeting.date, -rng.int(7, 21));
      const outcome = !meeting.held
        ? null
        : item.decision
          ? { kind: 'decision', text: rng.pick(DECISIONS) }
          : { kind: 'no_action', reason: rng.pick(NO_ACTION) };
      create(work, 'agenda_item', item.id, {
        team_id: teamId, meeting_id: meeting.id, kind: 'patient_discussion', title: '', patient_id: item.patient.id,
        reason: `${rng.pick(REASONS)}. ${notes(rng, 0, 20)}`.trim(), question: rng.pick(QUESTIONS), requested_by: item.requester, requested_on: requestedOn,
        lead_professional_id: item.requester, minutes: 8, position: (i + 1) * 1024, required_people: [item.requester],
        late: false, deferrals: 0, carried_from: null, status: meeting.held ? 'discussed' : 'open', outcome, summary_sent_on: null,
        restricted: item.restricted, restricted_to: [],
      });
      if (item.brief) {
        create(work, 'brief', briefIdFor(item.id), {
          team_id: teamId, item_id: item.id, author_id: item.requester, situation: `${rng.pick(SITUATIONS)} ${notes(rng, 10, 40)}`,
          background: `${rng.pick(BACKGROUNDS)} ${notes(rng, 5, 30)}`, assessment: item.brief === 'ready' ? `${rng.pick(ASSESSMENTS)} ${notes(rng, 10, 40)}` : '',
          request: `${rng.pick(REQUESTS)} ${notes(rng, 0, 15)}`.trim(), services_involved: rng.pick(SERVICES),
          risks: `${rng.pick(RISKS)}. ${notes(rng, 3, 15)}`, safeguarding_concern: item.restricted, patient_wishes: `${rng.pick(WISHES)} ${notes(rng, 0, 20)}`.trim(),
          consent_to_share: item.brief === 'ready' ? true : null, status: item.brief,
        });
      }
      const action = item.action;
      if (action) {
        const due = addDays(meeting.date, rng.int(7, 28));
        create(work, 'action', action.id, {
          team_id: teamId, description: action.description, owner_id: action.owner, due, patient_id: item.patient.id,
          meeting_id: meeting.id, item_id: item.id, status: 'proposed', completion_note: '', reason: '',
        });
        const event = (list, by, when, summary) => create(list, 'action_event', id(), { team_id: teamId, action_id: action.id, by, at: clampToNow(when), summary });
        event(work, people.coordinator, ends, 'agreed the action');
        const answerer = who.get(action.owner);
        const list = answerer === 'coordinator' ? work : later(answerer);
        const by = answerer === 'coordinator' ? people.coordinator : action.owner;
        const forOwner = action.owner === navigator ? `, for Nell Navigator ${pad(t)}, who does not sign in` : '';
        if (action.fate === 'accepted' || action.fate === 'done') {
          put(list, 'action', action.id, { status: 'accepted' });
          event(list, by, at(addDays(meeting.date, 1), '09:30'), `accepted the action${forOwner}`);
        }
        if (action.fate === 'done') {
          put(list, 'action', action.id, { status: 'done', completion_note: action.note });
          event(list, by, at(addDays(meeting.date, rng.int(3, 20)), '16:00'), `marked it done${forOwner}: ${action.note}`);
        }
        if (action.fate === 'declined') {
          const reason = 'Not my service: the community matron holds this';
          put(list, 'action', action.id, { status: 'declined', reason });
          event(list, by, at(addDays(meeting.date, 1), '10:00'), `declined: ${reason}`);
        }
        if (action.fate === 'cancelled') {
          const reason = 'No longer needed: the patient moved to another practice';
          put(afterwards, 'action', action.id, { status: 'cancelled', reason });
          event(afterwards, people.coordinator, at(addDays(meeting.date, 2), '11:00'), `cancelled it: ${reason}`);
        }
      }
    });
    create(work, 'agenda_item', actionsReviewIdFor(meeting.id), {
      team_id: teamId, meeting_id: meeting.id, kind: 'actions_review', title: 'Review of open actions', patient_id: null,
      reason: '', question: '', requested_by: null, requested_on: addDays(meeting.date, -7), lead_professional_id: null,
      minutes: 10, position: (meeting.items.length + 1) * 1024, required_people: [], late: false, deferrals: 0, carried_from: null,
      status: meeting.held ? 'discussed' : 'open', outcome: meeting.held ? { kind: 'no_action', reason: 'Open actions reviewed' } : null,
      summary_sent_on: null, restricted: false, restricted_to: [],
    });
    if (meeting.held) put(work, 'meeting', meeting.id, { starts_at: starts, ends_at: ends, status: 'closed' });
  }
  for (const [key, changes] of answers) phases.push({ who: key, changes });
  phases.push({ who: 'coordinator', changes: afterwards });
  if (created.size + Object.keys(accounts).length !== count) {
    throw new Error(`team ${t}: planned ${count} records but wrote ${created.size + Object.keys(accounts).length}`);
  }
  return { teamId, phases, records: count, meetings: meetings.length, patients: patients.length, items: k };
}

/** Makes team t's accounts, signs each in, and pushes the team's records. Returns a summary. */
export async function loadTeam(baseUrl, admin, t, records) {
  const accounts = teamAccounts(t);
  const sessions = {};
  for (const [key, account] of Object.entries(accounts)) {
    expectStatus(
      await request(baseUrl, 'POST', '/api/admin/accounts', {
        cookie: admin.cookie,
        body: { email: account.email, name: account.name, role: account.role, password: BENCH_PASSWORD },
      }),
      200,
      `add the account ${account.email}`,
    );
    sessions[key] = await signIn(baseUrl, account.email, BENCH_PASSWORD);
  }
  const people = Object.fromEntries(Object.entries(sessions).map(([key, s]) => [key, s.user.person_id]));
  const plan = planTeam(t, records, people, ukDate());
  // One version map for the team: owners change records the coordinator made.
  const versions = new Map(Object.values(people).map((p) => [p, 1]));
  const devices = Object.fromEntries(Object.entries(sessions).map(([key, s]) => [key, new Device(baseUrl, s, versions)]));
  let pushes = 0;
  let changes = 0;
  for (const { who, changes: list } of plan.phases) {
    const device = devices[who];
    for (const c of list) device.put(c.entity, c.id, c.fields);
    await device.flush();
  }
  for (const d of Object.values(devices)) {
    pushes += d.pushes;
    changes += d.applied;
  }
  return { t, teamId: plan.teamId, records: plan.records, changes, pushes, meetings: plan.meetings, patients: plan.patients, items: plan.items };
}

/**
 * Loads the teams `indices` of `records` records each, `jobs` at a time, printing progress.
 * Returns { teams, records, changes, pushes, seconds }.
 */
export async function loadTeams({ baseUrl, indices, records, jobs = 4, adminEmail = BENCH_ADMIN.email, adminPassword = BENCH_PASSWORD, label = '' }) {
  const admin = await signIn(baseUrl, adminEmail, adminPassword);
  const started = Date.now();
  const total = { teams: 0, records: 0, changes: 0, pushes: 0 };
  const queue = [...indices];
  let lastPrint = 0;
  const worker = async () => {
    while (queue.length > 0) {
      const t = queue.shift();
      const done = await loadTeam(baseUrl, admin, t, records);
      total.teams += 1;
      total.records += done.records;
      total.changes += done.changes;
      total.pushes += done.pushes;
      const seconds = (Date.now() - started) / 1000;
      if (total.teams === indices.length || indices.length <= 20 || Date.now() - lastPrint > 5000) {
        lastPrint = Date.now();
        const rate = total.changes / seconds;
        const eta = ((indices.length - total.teams) * (seconds / total.teams));
        console.log(
          `  ${label}team ${done.t}: ${fmtInt(done.records)} records (${done.meetings} meetings, ${done.items} items, ${done.patients} patients) in ${done.pushes} pushes · ` +
            `${total.teams}/${indices.length} teams, ${fmtInt(total.records)} records, ${fmtInt(rate)} changes/s, ${Math.round(seconds)} s` +
            (total.teams < indices.length ? `, about ${Math.round(eta)} s to go` : ''),
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, indices.length) }, worker));
  return { ...total, seconds: (Date.now() - started) / 1000 };
}

/** "0-99" or "0,3,7" → [0 … 99] or [0, 3, 7]. */
export function parseIndices(text) {
  return text.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number);
    if (!Number.isInteger(a) || (b !== undefined && !Number.isInteger(b))) throw new Error(`bad team list "${text}"`);
    return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const a = args();
  if (!a.base || !a.teams) {
    console.error('usage: node scripts/bench_region_load.mjs --base URL --teams 0-99 [--records 2000] [--jobs 4] [--label NAME]');
    process.exit(2);
  }
  const indices = parseIndices(a.teams);
  const records = Number(a.records ?? 2000);
  const result = await loadTeams({
    baseUrl: a.base, indices, records, jobs: Number(a.jobs ?? 4),
    adminEmail: a['admin-email'], adminPassword: a['admin-password'], label: a.label ? `${a.label}: ` : '',
  });
  const what = a.label ?? 'load';
  console.log(
    `BENCH load ${what}: ${result.teams} teams, ${fmtInt(result.records)} records through ${fmtInt(result.changes)} applied changes in ${fmtInt(result.pushes)} pushes, ` +
      `${result.seconds.toFixed(1)} s (${fmtInt(result.changes / result.seconds)} changes/s)`,
  );
  saveResult('load', { label: what, ...result });
}
