//! "What needs me": the home page's lists for the signed-in person, worked out from the records
//! on their device. This week's meetings with their answer, briefs to write or read before each
//! cut-off, their actions due or overdue, the items they asked for and when each will be
//! discussed; for a coordinator also the meetings at risk of no quorum and the briefs missing.
//!
//! Everything is computed here, not in the page, so the rules (what counts as "this week", who
//! writes which brief, which quorum is at risk) are tested natively.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use uuid::Uuid;

use super::access;
use super::action::{Action, ActionStatus};
use super::agenda::{Agenda, AgendaItem, ItemKind, ItemStatus};
use super::attendance::{Attendance, AttendanceStatus, QuorumPanel};
use super::brief::{Brief, BriefState, ReadReceipt, Readiness};
use super::directory::{Person, Role};
use super::meeting::{Meeting, MeetingStatus};
use super::patient::Patient;
use super::sync::Replica;
use super::team::Team;
use super::uk_time;

/// How far ahead "this week" looks: meetings, brief cut-offs and due dates within it are shown.
pub const WEEK: Duration = Duration::days(7);
/// How far ahead a coordinator is warned about quorum and missing briefs: far enough to chase
/// someone before the meeting after next.
pub const COORDINATOR_HORIZON: Duration = Duration::days(14);

/// A meeting in the coming week and the person's answer to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingAhead {
    pub meeting_id: Uuid,
    pub team_name: String,
    pub starts_at: DateTime<Utc>,
    /// `Invited` when they have not answered.
    pub answer: AttendanceStatus,
}

/// A brief to write or to read before a meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BriefTask {
    /// The agenda item (a brief is reached through its item).
    pub item_id: Uuid,
    pub meeting_id: Uuid,
    /// The patient's identity line, or the item's title.
    pub about: String,
    pub team_name: String,
    /// The brief cut-off (to write) or the meeting's start (to read).
    pub by: DateTime<Utc>,
    /// The time to do it has passed (the meeting has not).
    pub late: bool,
}

/// One of the person's open actions that needs them now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionDue {
    pub action_id: Uuid,
    pub description: String,
    pub patient_id: Option<Uuid>,
    pub about: String,
    pub due: NaiveDate,
    pub status: ActionStatus,
    pub overdue: bool,
}

/// An item the person asked for that has not been discussed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requested {
    pub item_id: Uuid,
    pub meeting_id: Uuid,
    pub about: String,
    pub team_name: String,
    /// When its slot on the agenda starts.
    pub discussed_at: DateTime<Utc>,
    /// Times it has been carried past a meeting without being discussed.
    pub deferrals: u32,
}

/// What a coordinator is warned about for a meeting they run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoordinatorAlert {
    /// Nobody is expected for these required roles.
    NoQuorum {
        meeting_id: Uuid,
        team_name: String,
        starts_at: DateTime<Utc>,
        missing: Vec<Role>,
    },
    /// Every role is covered on paper, but not everyone covering it has said they are coming.
    QuorumNotConfirmed {
        meeting_id: Uuid,
        team_name: String,
        starts_at: DateTime<Utc>,
        unconfirmed: Vec<Role>,
    },
    /// Patient items whose brief is not ready.
    BriefsNotReady {
        meeting_id: Uuid,
        team_name: String,
        starts_at: DateTime<Utc>,
        not_ready: usize,
        due: DateTime<Utc>,
    },
}

impl CoordinatorAlert {
    /// The meeting it is about.
    pub fn meeting_id(&self) -> Uuid {
        match self {
            Self::NoQuorum { meeting_id, .. }
            | Self::QuorumNotConfirmed { meeting_id, .. }
            | Self::BriefsNotReady { meeting_id, .. } => *meeting_id,
        }
    }
}

/// Everything on the signed-in person's home page, each list in the order to act on it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WhatNeedsMe {
    pub meetings: Vec<MeetingAhead>,
    pub briefs_to_write: Vec<BriefTask>,
    pub briefs_to_read: Vec<BriefTask>,
    pub actions: Vec<ActionDue>,
    pub requested: Vec<Requested>,
    pub coordinator: Vec<CoordinatorAlert>,
}

impl WhatNeedsMe {
    /// Nothing anywhere needs the person.
    pub fn is_empty(&self) -> bool {
        self.meetings.is_empty()
            && self.briefs_to_write.is_empty()
            && self.briefs_to_read.is_empty()
            && self.actions.is_empty()
            && self.requested.is_empty()
            && self.coordinator.is_empty()
    }

    /// The lists for `me` at `now` from the records on the device. `cannot_sign_in` are people
    /// the server says cannot sign in: a coordinator is not warned that they have not answered.
    pub fn of(replica: &Replica, me: Uuid, now: DateTime<Utc>, cannot_sign_in: &[Uuid]) -> Self {
        let records = Records::load(replica, me);
        let mut needs = Self::default();
        let today = uk_time::uk_today(now);
        for (meeting_id, meeting) in &records.meetings {
            let Some(team) = records.teams.get(&meeting.team_id) else {
                continue;
            };
            // Only meetings still to come (or going on now) that are going ahead.
            if meeting.status != MeetingStatus::Planned || meeting.ends_at <= now {
                continue;
            }
            let soon = meeting.starts_at < now + WEEK;
            let items = records.items_of(*meeting_id);
            let member = team.includes(me);
            if soon && member {
                needs.meetings.push(MeetingAhead {
                    meeting_id: *meeting_id,
                    team_name: team.name.clone(),
                    starts_at: meeting.starts_at,
                    answer: records.answer(*meeting_id, me),
                });
            }
            let due = team.briefs_due_at(meeting.starts_at);
            let visible: Vec<(Uuid, AgendaItem)> = items
                .iter()
                .filter(|(_, i)| !i.content_withheld && access::may_see_restricted(i, team, me))
                .cloned()
                .collect();
            let readiness = Readiness::of(&visible, &records.briefs, &records.receipts, &[me]);
            // Observers read the team's records but are not asked to write or read briefs.
            for row in readiness.rows.iter().filter(|_| member) {
                let Some((_, item)) = visible.iter().find(|(id, _)| *id == row.item_id) else {
                    continue;
                };
                let task = |by| BriefTask {
                    item_id: row.item_id,
                    meeting_id: *meeting_id,
                    about: records.about(item),
                    team_name: team.name.clone(),
                    by,
                    late: now >= by,
                };
                let ready = matches!(row.brief, BriefState::Ready { .. });
                if !ready && row.author == Some(me) && due < now + WEEK {
                    needs.briefs_to_write.push(task(due));
                } else if ready && soon && row.author != Some(me) && row.not_read().contains(&me) {
                    needs.briefs_to_read.push(task(meeting.starts_at));
                }
            }
            // Items the person asked for, with when their slot starts.
            let agenda = Agenda::new(items.clone());
            for slot in agenda.schedule(meeting.starts_at) {
                let Some((_, item)) = items.iter().find(|(id, _)| *id == slot.id) else {
                    continue;
                };
                if item.requested_by == Some(me)
                    && item.status == ItemStatus::Open
                    && item.kind != ItemKind::ActionsReview
                {
                    needs.requested.push(Requested {
                        item_id: slot.id,
                        meeting_id: *meeting_id,
                        about: records.about(item),
                        team_name: team.name.clone(),
                        discussed_at: slot.starts_at,
                        deferrals: item.deferrals,
                    });
                }
            }
            if team.coordinator_id == me && meeting.starts_at < now + COORDINATOR_HORIZON {
                needs.coordinator.extend(records.alerts(
                    *meeting_id,
                    meeting,
                    team,
                    &readiness,
                    cannot_sign_in,
                ));
            }
        }
        for (action_id, action) in &records.actions {
            // A declined action waits on the coordinator, not on its owner.
            if action.owner_id != me || action.status == ActionStatus::Declined {
                continue;
            }
            let overdue = action.is_overdue(now);
            let answer_needed = action.status == ActionStatus::Proposed;
            let due_soon = matches!(
                action.status,
                ActionStatus::Proposed | ActionStatus::Accepted
            ) && action.due < today + WEEK;
            if overdue || answer_needed || due_soon {
                needs.actions.push(ActionDue {
                    action_id: *action_id,
                    description: action.description.clone(),
                    patient_id: action.patient_id,
                    about: action
                        .patient_id
                        .and_then(|p| records.patients.get(&p))
                        .map(Patient::identity_line)
                        .unwrap_or_default(),
                    due: action.due,
                    status: action.status,
                    overdue,
                });
            }
        }
        needs.sort();
        needs
    }

    /// Soonest first everywhere; overdue actions before the rest.
    fn sort(&mut self) {
        let at = |t: DateTime<Utc>| t.timestamp();
        sort_by_plain_key(&mut self.meetings, |m| {
            (at(m.starts_at), 0, String::new(), m.meeting_id.as_u128())
        });
        for tasks in [&mut self.briefs_to_write, &mut self.briefs_to_read] {
            sort_by_plain_key(tasks, |t| {
                (at(t.by), 0, t.about.clone(), t.item_id.as_u128())
            });
        }
        sort_by_plain_key(&mut self.actions, |a| {
            (
                i64::from(!a.overdue),
                i64::from(a.due.num_days_from_ce()),
                a.description.clone(),
                a.action_id.as_u128(),
            )
        });
        sort_by_plain_key(&mut self.requested, |r| {
            (at(r.discussed_at), 0, String::new(), r.item_id.as_u128())
        });
        sort_by_plain_key(&mut self.coordinator, |a| {
            let (starts_at, rank) = match a {
                CoordinatorAlert::NoQuorum { starts_at, .. } => (*starts_at, 0),
                CoordinatorAlert::QuorumNotConfirmed { starts_at, .. } => (*starts_at, 1),
                CoordinatorAlert::BriefsNotReady { starts_at, .. } => (*starts_at, 2),
            };
            (at(starts_at), rank, String::new(), a.meeting_id().as_u128())
        });
    }
}

/// A sort key every list here can be put in order by: two numbers, a text, an id.
type PlainKey = (i64, i64, String, u128);

/// Orders `items` by `key` through one sort of plain keys: sorting each list's own type would
/// build a copy of the sort for every type, ~40 KB of the first page's wasm.
fn sort_by_plain_key<T>(items: &mut Vec<T>, key: impl Fn(&T) -> PlainKey) {
    let mut keyed: Vec<(PlainKey, usize)> = items
        .iter()
        .enumerate()
        .map(|(i, item)| (key(item), i))
        .collect();
    keyed.sort_unstable();
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(keyed.into_iter().filter_map(|(_, i)| slots[i].take()));
}

/// The records the lists are made from, read once.
struct Records {
    teams: HashMap<Uuid, Team>,
    meetings: Vec<(Uuid, Meeting)>,
    items: Vec<(Uuid, AgendaItem)>,
    patients: HashMap<Uuid, Patient>,
    roles: HashMap<Uuid, Role>,
    briefs: Vec<(Uuid, u64, Brief)>,
    receipts: Vec<ReadReceipt>,
    attendance: Vec<Attendance>,
    actions: Vec<(Uuid, Action)>,
}

impl Records {
    /// The records of the teams `me` reads (a device holds only those, but a stale copy of a
    /// team they left is never listed).
    fn load(replica: &Replica, me: Uuid) -> Self {
        let teams: HashMap<Uuid, Team> = replica
            .entities::<Team>()
            .into_iter()
            .filter(|(_, t)| t.can_read(me) && !t.archived)
            .collect();
        let mine = |team: &Uuid| teams.contains_key(team);
        let meetings = replica
            .entities::<Meeting>()
            .into_iter()
            .filter(|(_, m)| mine(&m.team_id))
            .collect();
        let items: Vec<(Uuid, AgendaItem)> = replica
            .entities::<AgendaItem>()
            .into_iter()
            .filter(|(_, i)| mine(&i.team_id))
            .collect();
        let item_ids: HashSet<Uuid> = items.iter().map(|(id, _)| *id).collect();
        let briefs: Vec<(Uuid, u64, Brief)> = replica
            .all::<Brief>()
            .into_iter()
            .filter(|(_, b)| item_ids.contains(&b.item_id))
            .map(|(v, b)| (v.id, v.version, b))
            .collect();
        Self {
            meetings,
            items,
            patients: replica
                .entities::<Patient>()
                .into_iter()
                .filter(|(_, p)| mine(&p.team_id))
                .collect(),
            roles: replica
                .entities::<Person>()
                .into_iter()
                .map(|(id, p)| (id, p.role))
                .collect(),
            briefs,
            receipts: replica
                .entities::<ReadReceipt>()
                .into_iter()
                .filter(|(_, r)| r.person_id == me || mine(&r.team_id))
                .map(|(_, r)| r)
                .collect(),
            attendance: replica
                .entities::<Attendance>()
                .into_iter()
                .map(|(_, a)| a)
                .collect(),
            actions: replica
                .entities::<Action>()
                .into_iter()
                .filter(|(_, a)| mine(&a.team_id))
                .collect(),
            teams,
        }
    }

    fn items_of(&self, meeting: Uuid) -> Vec<(Uuid, AgendaItem)> {
        self.items
            .iter()
            .filter(|(_, i)| i.meeting_id == meeting)
            .cloned()
            .collect()
    }

    fn attendance_of(&self, meeting: Uuid) -> Vec<Attendance> {
        self.attendance
            .iter()
            .filter(|a| a.meeting_id == meeting)
            .cloned()
            .collect()
    }

    fn answer(&self, meeting: Uuid, person: Uuid) -> AttendanceStatus {
        self.attendance
            .iter()
            .find(|a| a.meeting_id == meeting && a.person_id == person)
            .map_or(AttendanceStatus::Invited, |a| a.status)
    }

    /// What an item is about: the patient, or its title.
    fn about(&self, item: &AgendaItem) -> String {
        item.patient_id
            .and_then(|p| self.patients.get(&p))
            .map(Patient::identity_line)
            .unwrap_or_else(|| item.title.clone())
    }

    /// A coordinator's warnings for one meeting: quorum not met, or met only by people who
    /// have not said they are coming (anyone who cannot sign in counts as coming: the
    /// coordinator answers for them), and briefs not ready.
    fn alerts(
        &self,
        meeting_id: Uuid,
        meeting: &Meeting,
        team: &Team,
        readiness: &Readiness,
        cannot_sign_in: &[Uuid],
    ) -> Vec<CoordinatorAlert> {
        let mut alerts = Vec::new();
        let quorum = QuorumPanel::of(team, &self.roles, &self.attendance_of(meeting_id));
        let missing = quorum.missing();
        if !missing.is_empty() {
            alerts.push(CoordinatorAlert::NoQuorum {
                meeting_id,
                team_name: team.name.clone(),
                starts_at: meeting.starts_at,
                missing,
            });
        } else {
            let unconfirmed: Vec<Role> = quorum
                .roles
                .iter()
                .filter(|cover| {
                    let answered = cover
                        .covered_by
                        .iter()
                        .filter(|p| cover.said_coming.contains(p) || cannot_sign_in.contains(p))
                        .count();
                    (answered as u32) < cover.needed
                })
                .map(|cover| cover.role)
                .collect();
            if !unconfirmed.is_empty() {
                alerts.push(CoordinatorAlert::QuorumNotConfirmed {
                    meeting_id,
                    team_name: team.name.clone(),
                    starts_at: meeting.starts_at,
                    unconfirmed,
                });
            }
        }
        // The coordinator sees every item (restricted ones included), so the count is whole.
        let not_ready = readiness
            .rows
            .iter()
            .filter(|r| !matches!(r.brief, BriefState::Ready { .. }))
            .count();
        if not_ready > 0 {
            alerts.push(CoordinatorAlert::BriefsNotReady {
                meeting_id,
                team_name: team.name.clone(),
                starts_at: meeting.starts_at,
                not_ready,
                due: team.briefs_due_at(meeting.starts_at),
            });
        }
        alerts
    }
}

#[cfg(test)]
mod tests;
