//! What the agenda, readiness panel and brief pack show for one meeting, derived from the
//! device's copy in one pass so pages render from plain data.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use uuid::Uuid;

use crate::core::action::Action;
use crate::core::agenda::{carried_id, Agenda, AgendaItem, Slot};
use crate::core::attendance::{Attendance, AttendanceStatus, QuorumPanel};
use crate::core::brief::{Brief, BriefState, ReadReceipt, Readiness};
use crate::core::entities::{Meeting, Person, Team};
use crate::core::patient::Patient;
use crate::core::summary::{MeetingRecords, OutcomeSummary};
use crate::core::sync::Replica;

/// One meeting with its team, agenda and everything the agenda refers to.
#[derive(Debug, Clone, PartialEq)]
pub struct AgendaView {
    pub meeting_id: Uuid,
    pub meeting: Meeting,
    pub team: Team,
    pub agenda: Agenda,
    pub slots: Vec<Slot>,
    pub patients: HashMap<Uuid, Patient>,
    pub people: HashMap<Uuid, Person>,
    /// (brief id, version, brief) for this meeting's items.
    pub briefs: Vec<(Uuid, u64, Brief)>,
    pub receipts: Vec<ReadReceipt>,
    /// Items of this meeting already carried to a later one.
    pub carried_on: HashSet<Uuid>,
    /// Every action of the team.
    pub actions: Vec<(Uuid, Action)>,
    /// Members' answers for this meeting.
    pub attendance: Vec<Attendance>,
}

impl AgendaView {
    /// The view of `meeting_id`, if the meeting and its team are on this device.
    pub fn load(replica: &Replica, meeting_id: Uuid) -> Option<Self> {
        let meeting = replica.entity::<Meeting>(meeting_id)?;
        let team = replica.entity::<Team>(meeting.team_id)?;
        let team_id = meeting.team_id;
        let all_items = replica.entities::<AgendaItem>();
        let item_ids: HashSet<Uuid> = all_items.iter().map(|(id, _)| *id).collect();
        let items: Vec<(Uuid, AgendaItem)> = all_items
            .into_iter()
            .filter(|(_, i)| i.meeting_id == meeting_id)
            .collect();
        let carried_on = items
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| item_ids.contains(&carried_id(*id)))
            .collect();
        let on_agenda: HashSet<Uuid> = items.iter().map(|(id, _)| *id).collect();
        let agenda = Agenda::new(items);
        let slots = agenda.schedule(meeting.starts_at);
        let patients = replica
            .entities::<Patient>()
            .into_iter()
            .filter(|(_, p)| p.team_id == team_id)
            .collect();
        let people = replica.entities::<Person>().into_iter().collect();
        let briefs: Vec<(Uuid, u64, Brief)> = replica
            .all::<Brief>()
            .into_iter()
            .filter(|(_, b)| on_agenda.contains(&b.item_id))
            .map(|(v, b)| (v.id, v.version, b))
            .collect();
        let brief_ids: HashSet<Uuid> = briefs.iter().map(|(id, _, _)| *id).collect();
        let receipts = replica
            .entities::<ReadReceipt>()
            .into_iter()
            .filter(|(_, r)| brief_ids.contains(&r.brief_id))
            .map(|(_, r)| r)
            .collect();
        let actions = replica
            .entities::<Action>()
            .into_iter()
            .filter(|(_, a)| a.team_id == team_id)
            .collect();
        let attendance = replica
            .entities::<Attendance>()
            .into_iter()
            .filter(|(_, a)| a.meeting_id == meeting_id)
            .map(|(_, a)| a)
            .collect();
        Some(Self {
            attendance,
            meeting_id,
            meeting,
            team,
            agenda,
            slots,
            patients,
            people,
            briefs,
            receipts,
            carried_on,
            actions,
        })
    }

    /// The outcome summary of each concluded patient item `viewer` may see, in agenda order
    /// (`core::summary`), with when each was marked sent.
    pub fn summaries(&self, viewer: Uuid) -> Vec<(OutcomeSummary, Option<NaiveDate>)> {
        let organisations = HashMap::new();
        let records = MeetingRecords {
            meeting_id: self.meeting_id,
            meeting: &self.meeting,
            team_id: self.meeting.team_id,
            team: &self.team,
            people: &self.people,
            organisations: &organisations,
            patients: &self.patients,
            items: self.agenda.items(),
            actions: &self.actions,
            events: &[],
            attendance: &self.attendance,
        };
        records
            .summaries(viewer)
            .into_iter()
            .map(|s| {
                let sent = self.item(s.item_id).and_then(|i| i.summary_sent_on);
                (s, sent)
            })
            .collect()
    }

    /// How many of the meeting's outcome summaries are still to send, of how many (those the
    /// viewer may see).
    pub fn summaries_to_send(&self, viewer: Uuid) -> (usize, usize) {
        let all = self.summaries(viewer);
        let unsent = all.iter().filter(|(_, sent)| sent.is_none()).count();
        (unsent, all.len())
    }

    /// The coordinator and members: who is expected to read the briefs.
    pub fn members(&self) -> Vec<Uuid> {
        let mut members = vec![self.team.coordinator_id];
        members.extend(
            self.team
                .member_ids
                .iter()
                .filter(|m| **m != self.team.coordinator_id),
        );
        members
    }

    /// A member's answer for this meeting (not answered yet: invited).
    pub fn status_of(&self, person: Uuid) -> AttendanceStatus {
        self.attendance
            .iter()
            .find(|a| a.person_id == person)
            .map_or(AttendanceStatus::Invited, |a| a.status)
    }

    /// Whether the team's required roles will be covered, from members' answers.
    pub fn quorum(&self) -> QuorumPanel {
        let roles = self.people.iter().map(|(id, p)| (*id, p.role)).collect();
        QuorumPanel::of(&self.team, &roles, &self.attendance)
    }

    /// The coordinator and members with their names, sorted by name (for choosing people).
    pub fn member_names(&self) -> Vec<(Uuid, String)> {
        let mut people: Vec<(Uuid, String)> = self
            .members()
            .into_iter()
            .map(|m| (m, self.name(Some(m))))
            .collect();
        people.sort_by_cached_key(|(_, n)| n.to_lowercase());
        people
    }

    /// A person's name, or a placeholder when they are not on this device.
    pub fn name(&self, person: Option<Uuid>) -> String {
        person.and_then(|p| self.people.get(&p)).map_or_else(
            || "someone not in your directory".into(),
            |p| p.name.clone(),
        )
    }

    /// The brief of an item, with its id and version.
    pub fn brief_of(&self, item: Uuid) -> Option<&(Uuid, u64, Brief)> {
        self.briefs.iter().find(|(_, _, b)| b.item_id == item)
    }

    /// The readiness panel for this meeting. People in `cannot_sign_in` (a GP who never logs
    /// on) are not expected to read briefs in the app.
    pub fn readiness(&self, cannot_sign_in: &[Uuid]) -> Readiness {
        // Items withheld from this device are prepared by the people who may see them, and a
        // restricted item's brief is expected to be read only by them.
        let items: Vec<(Uuid, AgendaItem)> = self
            .agenda
            .items()
            .iter()
            .filter(|(_, i)| !i.content_withheld)
            .cloned()
            .collect();
        let readers: Vec<Uuid> = self
            .members()
            .into_iter()
            .filter(|m| !cannot_sign_in.contains(m))
            .collect();
        let mut readiness = Readiness::of(&items, &self.briefs, &self.receipts, &readers);
        for row in &mut readiness.rows {
            if let Some((_, item)) = items.iter().find(|(id, _)| *id == row.item_id) {
                row.readers
                    .retain(|m, _| crate::core::access::may_see_restricted(item, &self.team, *m));
            }
        }
        readiness
    }

    /// The person's own part in this meeting, for the top of its page: their answer, the
    /// briefs they are to write (with how far each has got), the ready briefs they have not
    /// read yet and the items they asked for or lead. Items withheld from them are left out.
    pub fn my_part(&self, me: Uuid) -> MyPart {
        let readiness = self.readiness(&[]);
        let mut to_write = Vec::new();
        let mut to_read = Vec::new();
        for row in &readiness.rows {
            let heading = self.heading_of(row.item_id);
            if row.author == Some(me) {
                let state = match row.brief {
                    BriefState::Missing => "not started",
                    BriefState::Draft => "draft",
                    BriefState::Ready { .. } => "ready",
                };
                to_write.push((row.item_id, format!("{heading}: {state}")));
            } else if row.not_read().contains(&me) {
                to_read.push((row.item_id, heading));
            }
        }
        // The items the person put on the agenda, or leads, that are still to be discussed.
        let mine = self
            .agenda
            .items()
            .iter()
            .filter(|(_, i)| !i.content_withheld && i.outcome.is_none())
            .filter(|(_, i)| i.requested_by == Some(me) || i.lead_professional_id == Some(me))
            .map(|(id, i)| (*id, self.item_heading(i)))
            .collect();
        MyPart {
            answer: self.status_of(me),
            to_write,
            to_read,
            mine,
        }
    }

    /// One of the meeting's items, by id.
    pub fn item(&self, id: Uuid) -> Option<&AgendaItem> {
        self.agenda
            .items()
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, item)| item)
    }

    /// What to call the item with this id on this agenda ("" when it is not on it).
    pub fn heading_of(&self, item_id: Uuid) -> String {
        self.agenda
            .items()
            .iter()
            .find(|(i, _)| *i == item_id)
            .map(|(_, i)| self.item_heading(i))
            .unwrap_or_default()
    }

    /// Why the meeting cannot be concluded yet, a line per item ("Ada Synthetic (…) has no
    /// outcome yet"); empty when it can be.
    pub fn conclusion_blockers(&self) -> Vec<String> {
        crate::core::action::conclusion_blockers(self.agenda.items(), &self.actions)
            .iter()
            .map(|b| format!("{} {}", self.heading_of(b.item_id), b.problem))
            .collect()
    }

    /// What to call an item: the patient (name, NHS number, date of birth) or its title.
    pub fn item_heading(&self, item: &AgendaItem) -> String {
        if item.content_withheld {
            return "Restricted item (safeguarding)".into();
        }
        match item.patient_id.and_then(|p| self.patients.get(&p)) {
            Some(patient) => patient.identity_line(),
            None if !item.title.is_empty() => item.title.clone(),
            None => item.kind.label().into(),
        }
    }
}

/// A person's own part in a meeting (see [`AgendaView::my_part`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyPart {
    pub answer: AttendanceStatus,
    /// (item, "Ada Synthetic (…): Draft"): the briefs the person is to write.
    pub to_write: Vec<(Uuid, String)>,
    /// (item, heading): ready briefs the person has not read.
    pub to_read: Vec<(Uuid, String)>,
    /// (item, heading): items the person asked for or leads, not yet discussed.
    pub mine: Vec<(Uuid, String)>,
}

/// How far a patient item's brief has got, as the agenda shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BriefBadge {
    Ready,
    Draft,
    Missing,
}

/// One agenda line, fully worked out, so the list can re-render only the lines that changed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AgendaRow {
    pub id: Uuid,
    pub index: usize,
    pub count: usize,
    pub time: String,
    pub heading: String,
    pub is_patient: bool,
    pub kind_label: &'static str,
    pub late: bool,
    pub deferrals: u32,
    pub needs_attention: bool,
    pub discussed: bool,
    pub carried: bool,
    pub brief: Option<BriefBadge>,
    /// (term, description) pairs shown under the heading.
    pub details: Vec<(&'static str, String)>,
    /// People who must attend but are not in the team.
    pub not_members: Vec<String>,
    /// People who must attend but have sent apologies.
    pub apologies: Vec<String>,
    /// How the discussion ended: (label, decision or reason).
    pub outcome: Option<(&'static str, String)>,
    /// Actions agreed on this item, one line each.
    pub item_actions: Vec<String>,
    /// For the actions review: the team's open actions grouped by owner.
    pub review: Vec<(String, Vec<String>)>,
    pub kind: crate::core::agenda::ItemKind,
    pub patient_id: Option<Uuid>,
    /// The patient objects to their information being shared (see [`Patient::objects_to_sharing`]).
    pub objects_to_sharing: bool,
    /// Safeguarding-restricted (see [`crate::core::access`]).
    pub restricted: bool,
    /// Restricted and this person may not see it: only its place on the agenda is known.
    pub withheld: bool,
    /// The coordinator may chase the brief by email: a patient item not yet discussed whose
    /// brief is not ready.
    pub chase: bool,
}

impl AgendaView {
    /// "Refer to the falls service — Ada Synthetic — Sol Worker — due 1 Dec 2026 — accepted (overdue)".
    pub fn action_line(&self, a: &Action, with_owner: bool) -> String {
        let mut parts = vec![a.description.clone()];
        if let Some(p) = a.patient_id.and_then(|p| self.patients.get(&p)) {
            parts.push(p.name.clone());
        }
        if with_owner {
            parts.push(self.name(Some(a.owner_id)));
        }
        parts.push(format!("due {}", crate::core::uk_time::format_date(a.due)));
        let overdue = if a.is_overdue(chrono::Utc::now()) {
            " (overdue)"
        } else {
            ""
        };
        parts.push(format!("{}{overdue}", a.status.label().to_lowercase()));
        parts.join(" — ")
    }

    /// The team's open actions grouped by owner (owners by name), for the actions review.
    pub fn open_actions_by_owner(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: std::collections::BTreeMap<String, Vec<(chrono::NaiveDate, String)>> =
            Default::default();
        for (_, a) in self.actions.iter().filter(|(_, a)| a.status.is_open()) {
            groups
                .entry(self.name(Some(a.owner_id)))
                .or_default()
                .push((a.due, self.action_line(a, false)));
        }
        groups
            .into_iter()
            .map(|(owner, mut lines)| {
                lines.sort();
                (owner, lines.into_iter().map(|(_, l)| l).collect())
            })
            .collect()
    }

    /// The agenda's lines in running order. `coordinator` decides whether items deferred twice
    /// are flagged for attention.
    pub fn rows(&self, coordinator: bool) -> Vec<AgendaRow> {
        use crate::core::agenda::{ItemKind, ItemStatus};
        use crate::core::brief::BriefStatus;
        use crate::core::uk_time::{format_date, format_uk_time};

        let members: HashSet<Uuid> = self.members().into_iter().collect();
        let count = self.agenda.items().len();
        self.agenda
            .items()
            .iter()
            .zip(&self.slots)
            .enumerate()
            .map(|(index, ((id, item), slot))| {
                let withheld = item.content_withheld;
                let is_patient = item.kind == ItemKind::PatientDiscussion && !withheld;
                let time = if item.kind == ItemKind::ForInformation {
                    format!("{} · for information", format_uk_time(slot.starts_at))
                } else {
                    format!(
                        "{}–{}",
                        format_uk_time(slot.starts_at),
                        format_uk_time(slot.ends_at)
                    )
                };
                let brief = is_patient.then(|| match self.brief_of(*id) {
                    Some((_, _, b)) if b.is_blank() => BriefBadge::Missing,
                    Some((_, _, b)) if b.status == BriefStatus::Ready => BriefBadge::Ready,
                    Some(_) => BriefBadge::Draft,
                    None => BriefBadge::Missing,
                });
                let mut details = Vec::new();
                if withheld {
                    if let Some(lead) = item.lead_professional_id {
                        details.push(("Lead professional", self.name(Some(lead))));
                    }
                    details.push((
                        "Details",
                        "Seen only by the item's lead, the person who asked for it, the coordinator and people the coordinator names".into(),
                    ));
                }
                if is_patient {
                    details.push(("Reason", item.reason.clone()));
                    details.push(("Question for the MDT", item.question.clone()));
                    // Who asked, since when, and who leads, on one line.
                    let lead = item
                        .lead_professional_id
                        .map(|lead| format!(" · lead professional: {}", self.name(Some(lead))))
                        .unwrap_or_default();
                    details.push((
                        "Asked for by",
                        format!(
                            "{} · waiting since {}{lead}",
                            self.name(item.requested_by),
                            format_date(item.requested_on)
                        ),
                    ));
                    if item.restricted {
                        let mut people = vec![self.team.coordinator_id];
                        people.extend(item.lead_professional_id);
                        people.extend(item.requested_by);
                        people.extend(item.restricted_to.iter().copied());
                        let mut seen = HashSet::new();
                        people.retain(|p| seen.insert(*p));
                        let names: Vec<String> =
                            people.into_iter().map(|p| self.name(Some(p))).collect();
                        details.push(("Seen only by", names.join(", ")));
                    }
                    if !item.required_people.is_empty() {
                        let names: Vec<String> = item
                            .required_people
                            .iter()
                            .map(|p| self.name(Some(*p)))
                            .collect();
                        details.push(("Must be there", names.join(", ")));
                    }
                }
                AgendaRow {
                    id: *id,
                    index,
                    count,
                    time,
                    heading: self.item_heading(item),
                    is_patient,
                    kind_label: item.kind.label(),
                    late: item.late,
                    deferrals: item.deferrals,
                    needs_attention: coordinator && item.needs_coordinator_attention(),
                    discussed: item.status == ItemStatus::Discussed,
                    carried: self.carried_on.contains(id),
                    brief,
                    details,
                    not_members: item
                        .required_people
                        .iter()
                        .filter(|p| !members.contains(p))
                        .map(|p| self.name(Some(*p)))
                        .collect(),
                    apologies: item
                        .required_people
                        .iter()
                        .filter(|p| self.status_of(**p) == AttendanceStatus::Apologies)
                        .map(|p| self.name(Some(*p)))
                        .collect(),
                    outcome: item
                        .outcome
                        .as_ref()
                        .map(|o| (o.label(), o.text().to_owned())),
                    item_actions: self
                        .actions
                        .iter()
                        .filter(|(_, a)| a.item_id == Some(*id))
                        .map(|(_, a)| self.action_line(a, false))
                        .collect(),
                    review: if item.kind == ItemKind::ActionsReview {
                        self.open_actions_by_owner()
                    } else {
                        Vec::new()
                    },
                    kind: item.kind,
                    patient_id: item.patient_id,
                    objects_to_sharing: item
                        .patient_id
                        .and_then(|p| self.patients.get(&p))
                        .is_some_and(|p| p.objects_to_sharing),
                    restricted: item.restricted,
                    withheld,
                    chase: coordinator
                        && item.status != ItemStatus::Discussed
                        && matches!(brief, Some(BriefBadge::Missing | BriefBadge::Draft)),
                }
            })
            .collect()
    }
}

/// One patient line of the readiness panel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReadinessLine {
    pub item_id: Uuid,
    pub heading: String,
    pub state: &'static str,
    pub author: String,
    /// "Name ✓", "Name — not yet", "Name (an earlier version)", or a single note.
    pub read: Vec<String>,
}

/// The readiness panel, worked out.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReadinessSummary {
    pub lines: Vec<ReadinessLine>,
    pub ready: usize,
    pub due: Option<chrono::DateTime<chrono::Utc>>,
    pub before_cutoff: bool,
    /// "Name: finish 2 briefs", "Name: read 1 brief".
    pub to_act: Vec<String>,
}

impl AgendaView {
    /// The readiness panel at `now`; `cannot_sign_in` as for [`AgendaView::readiness`]: they
    /// are listed as not reading in the app, never as someone still to act.
    pub fn readiness_summary(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        cannot_sign_in: &[Uuid],
    ) -> ReadinessSummary {
        use crate::core::brief::BriefState;
        let readiness = self.readiness(cannot_sign_in);
        let members = self.members();
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let lines = readiness
            .rows
            .iter()
            .map(|row| {
                let heading = self.heading_of(row.item_id);
                let state = match row.brief {
                    BriefState::Ready { .. } => "Ready",
                    BriefState::Draft => "Draft",
                    BriefState::Missing => "Missing",
                };
                let read = if row.brief == BriefState::Missing {
                    vec!["Nothing to read yet".to_string()]
                } else {
                    members
                        .iter()
                        .map(|m| {
                            let name = self.name(Some(*m));
                            if cannot_sign_in.contains(m) {
                                return format!("{name} (does not sign in)");
                            }
                            match (row.readers.get(m).copied().flatten(), &row.brief) {
                                (Some(seen), BriefState::Ready { version }) if seen < *version => {
                                    format!("{name} (an earlier version)")
                                }
                                (Some(_), _) => format!("{name} ✓"),
                                (None, _) => format!("{name} — not yet"),
                            }
                        })
                        .collect()
                };
                ReadinessLine {
                    item_id: row.item_id,
                    heading,
                    state,
                    author: self.name(row.author),
                    read,
                }
            })
            .collect();
        let due = self.team.briefs_due_at(self.meeting.starts_at);
        let to_act = readiness
            .authors_to_act()
            .iter()
            .map(|(author, n)| format!("{}: finish {n} brief{}", self.name(*author), plural(*n)))
            .chain(readiness.readers_to_act().iter().map(|(reader, n)| {
                format!("{}: read {n} brief{}", self.name(Some(*reader)), plural(*n))
            }))
            .collect();
        ReadinessSummary {
            lines,
            ready: readiness.ready(),
            due: Some(due),
            before_cutoff: now < due,
            to_act,
        }
    }
}
