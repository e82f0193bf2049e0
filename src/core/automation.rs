//! Domain automation on a device's replica: carrying undiscussed items forward to the team's
//! next meeting, putting open actions up for review, and keeping a series' meetings in the
//! calendar. Each stages ordinary changes through the sync protocol (`Replica::stage_entity`,
//! `stage_edit`), with ids derived from the originals so that devices doing the same at the
//! same time write the same records, and the server checks them like any other change. The
//! protocol itself (`core::sync`) knows nothing of agendas, actions or series.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::core::action::Action;
use crate::core::agenda::{
    actions_review_id, carry_forward, Agenda, AgendaItem, ItemKind, ItemStatus,
};
use crate::core::brief::{brief_id_for, Brief, BriefStatus};
use crate::core::meeting::{Meeting, MeetingStatus};
use crate::core::series::Series;
use crate::core::sync::{Change, Replica};
use crate::core::uk_time;
use crate::core::validation::ValidationError;

impl Replica {
    /// Queues the carry-forward of every undiscussed item of a finished meeting onto its team's
    /// next meeting (see [`crate::core::agenda::carry_forward`]), copying its brief as a draft
    /// to be brought up to date. Ids are derived from the originals, so devices that do this at
    /// the same time write the same records. Returns how many items were carried.
    pub fn stage_carry_forward(
        &mut self,
        now: DateTime<Utc>,
        mut new_mutation_id: impl FnMut() -> Uuid,
    ) -> usize {
        let meetings = self.entities::<Meeting>();
        let items = self.entities::<AgendaItem>();
        let mut teams: Vec<Uuid> = meetings.iter().map(|(_, m)| m.team_id).collect();
        teams.sort();
        teams.dedup();
        let mut carried = 0;
        for team in teams {
            let team_meetings: Vec<_> = meetings
                .iter()
                .filter(|(_, m)| m.team_id == team)
                .cloned()
                .collect();
            let team_items: Vec<_> = items
                .iter()
                .filter(|(_, i)| i.team_id == team)
                .cloned()
                .collect();
            for (id, item) in carry_forward(&team_meetings, &team_items, now) {
                let original_brief = item
                    .carried_from
                    .and_then(|from| self.view(brief_id_for(from)))
                    .and_then(|v| v.typed::<Brief>())
                    .filter(|b| !b.is_blank());
                if self.stage_entity(new_mutation_id(), id, &item).is_err() {
                    continue;
                }
                carried += 1;
                let copy_id = brief_id_for(id);
                if let Some(brief) = original_brief.filter(|_| self.view(copy_id).is_none()) {
                    let copy = Brief {
                        item_id: id,
                        status: BriefStatus::Draft,
                        ..brief
                    };
                    let _ = self.stage_entity(new_mutation_id(), copy_id, &copy);
                }
            }
        }
        carried
    }

    /// Puts a "review of open actions" item on each team's next meeting while the team has open
    /// actions, so they come back until done or cancelled. Returns how many items were added.
    pub fn stage_actions_reviews(
        &mut self,
        now: DateTime<Utc>,
        mut new_mutation_id: impl FnMut() -> Uuid,
    ) -> usize {
        let actions = self.entities::<Action>();
        let meetings = self.entities::<Meeting>();
        let items = self.entities::<AgendaItem>();
        let mut teams: Vec<Uuid> = actions
            .iter()
            .filter(|(_, a)| a.status.is_open())
            .map(|(_, a)| a.team_id)
            .collect();
        teams.sort();
        teams.dedup();
        let mut added = 0;
        for team in teams {
            let Some((meeting_id, _)) = meetings
                .iter()
                .filter(|(_, m)| {
                    m.team_id == team && m.status == MeetingStatus::Planned && m.ends_at > now
                })
                .min_by_key(|(id, m)| (m.starts_at, *id))
                .map(|(id, m)| (*id, m))
            else {
                continue;
            };
            let on_agenda: Vec<(Uuid, AgendaItem)> = items
                .iter()
                .filter(|(_, i)| i.meeting_id == meeting_id)
                .cloned()
                .collect();
            let review_id = actions_review_id(meeting_id);
            if on_agenda
                .iter()
                .any(|(id, i)| *id == review_id || i.kind == ItemKind::ActionsReview)
                || self.view(review_id).is_some()
            {
                continue;
            }
            let review = AgendaItem {
                team_id: team,
                meeting_id,
                kind: ItemKind::ActionsReview,
                title: "Review of open actions".into(),
                patient_id: None,
                reason: String::new(),
                question: String::new(),
                requested_by: None,
                requested_on: crate::core::uk_time::uk_today(now),
                lead_professional_id: None,
                minutes: 10,
                position: Agenda::new(on_agenda).next_position(),
                required_people: Vec::new(),
                late: false,
                deferrals: 0,
                carried_from: None,
                status: ItemStatus::Open,
                outcome: None,
                summary_sent_on: None,
                restricted: false,
                restricted_to: vec![],
                content_withheld: false,
            };
            if self
                .stage_entity(new_mutation_id(), review_id, &review)
                .is_ok()
            {
                added += 1;
            }
        }
        added
    }

    /// Keeps each series' meetings in the calendar `weeks` ahead: creates any occurrence that
    /// has no meeting yet (ids derived from the series and date, so devices doing this at the
    /// same time write one meeting). Returns how many meetings were created.
    pub fn stage_series_meetings(
        &mut self,
        now: DateTime<Utc>,
        weeks: i64,
        mut new_mutation_id: impl FnMut() -> Uuid,
    ) -> usize {
        let today = uk_time::uk_today(now);
        let mut created = 0;
        for (series_id, series) in self
            .entities::<Series>()
            .into_iter()
            .filter(|(_, s)| !s.cancelled)
        {
            for occurrence in series.occurrences(today, today + chrono::Duration::weeks(weeks)) {
                let id = Series::meeting_id(series_id, occurrence.original);
                if self.view(id).is_some() || self.confirmed().get(&id).is_some_and(|r| r.deleted) {
                    continue;
                }
                let Ok(starts_at) = uk_time::from_uk(occurrence.starts) else {
                    continue;
                };
                if starts_at <= now {
                    continue;
                }
                let meeting = Meeting {
                    team_id: series.team_id,
                    starts_at,
                    ends_at: starts_at + chrono::Duration::minutes(i64::from(series.minutes)),
                    place: series.place.clone(),
                    video_link: series.video_link.clone(),
                    status: MeetingStatus::Planned,
                };
                if self.stage_entity(new_mutation_id(), id, &meeting).is_ok() {
                    created += 1;
                }
            }
        }
        created
    }

    /// Queues an edit of series `series_id` (only the fields that changed, with `sequence`
    /// bumped so calendar programs replace their copy) together with the changes it makes to
    /// the series' meetings already in the calendar (see
    /// [`crate::core::series::Series::meeting_changes`]). Returns how many meetings changed.
    pub fn stage_series_change(
        &mut self,
        series_id: Uuid,
        after: crate::core::series::Series,
        now: DateTime<Utc>,
        new_mutation_id: impl FnMut() -> Uuid,
    ) -> Result<usize, ValidationError> {
        let changes = self.series_change(series_id, after, now)?;
        let meetings = changes.len() - 1;
        self.stage_all(changes, new_mutation_id, |_, _| Ok(()))?;
        Ok(meetings)
    }

    /// The command "change a series": the series (its calendar sequence moved on, so calendar
    /// programs take the new version) and each of its meetings already in the calendar changed
    /// to match (skipped ones cancelled, moved ones moved); the series' change comes first.
    pub fn series_change(
        &self,
        series_id: Uuid,
        mut after: crate::core::series::Series,
        now: DateTime<Utc>,
    ) -> Result<Vec<Change>, ValidationError> {
        let view = self
            .view(series_id)
            .ok_or_else(|| ValidationError::record("That series is not on this device"))?;
        let before = view
            .typed::<Series>()
            .ok_or_else(|| ValidationError::record("That record is not a series"))?;
        after.sequence = before.sequence + 1;
        let mut changes = vec![Change::edit(series_id, view.version, Some(&before), &after)];
        changes.extend(
            after
                .meeting_changes(
                    &before,
                    series_id,
                    |id| self.view(id).and_then(|v| v.typed::<Meeting>()),
                    now,
                )
                .into_iter()
                .filter_map(|(id, changed)| {
                    let v = self.view(id)?;
                    let current = v.typed::<Meeting>()?;
                    Some(Change::edit(id, v.version, Some(&current), &changed))
                }),
        );
        Ok(changes)
    }
}

#[cfg(test)]
mod tests;
