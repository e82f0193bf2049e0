//! The records waiting for a person to choose between two values, described in words with
//! where each is edited.

use uuid::Uuid;

use crate::core::agenda::AgendaItem;
use crate::core::brief::Brief;
use crate::core::entities::EntityKind;
use crate::core::patient::Patient;
use crate::core::sync::{LocalView, Replica};
use crate::web::routes::Page;

/// One record with a conflict: its id, what it is in words, and where it is edited.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflicted {
    pub id: Uuid,
    pub what: String,
    pub link: Option<String>,
}

/// Every record on the device with a same-field conflict waiting for a choice.
pub fn conflicted(replica: &Replica) -> Vec<Conflicted> {
    replica
        .conflicted()
        .filter_map(|record| replica.view(record.id))
        .filter(|v| !v.conflicts.is_empty())
        .map(|v| {
            let (what, link) = describe(replica, &v);
            Conflicted {
                id: v.id,
                what,
                link,
            }
        })
        .collect()
}

/// What the record is, in words, and where it is edited.
fn describe(replica: &Replica, view: &LocalView) -> (String, Option<String>) {
    let text = |name: &str| {
        view.fields
            .get(name)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let patient_of_item = |item: Uuid| {
        replica
            .view(item)
            .and_then(|v| v.typed::<AgendaItem>())
            .and_then(|i| i.patient_id)
            .and_then(|p| replica.view(p))
            .and_then(|v| v.typed::<Patient>())
            .map(|p| p.name)
    };
    let label = view.entity.label();
    match view.entity {
        EntityKind::Brief => {
            let item = view.typed::<Brief>().map(|b| b.item_id);
            let whose = item.and_then(patient_of_item);
            (
                match whose {
                    Some(name) => format!("Brief for {name}"),
                    None => label.to_string(),
                },
                item.map(|i| Page::Brief(i).href()),
            )
        }
        EntityKind::AgendaItem => {
            let meeting = view.typed::<AgendaItem>().map(|i| i.meeting_id);
            (
                format!(
                    "Agenda item{}",
                    patient_of_item(view.id)
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default()
                ),
                meeting.map(|m| Page::Meeting(m).href()),
            )
        }
        EntityKind::Meeting => (label.to_string(), Some(Page::Meeting(view.id).href())),
        EntityKind::Team => (
            format!(
                "Team{}",
                text("name").map(|n| format!(": {n}")).unwrap_or_default()
            ),
            Some(Page::Team(view.id).href()),
        ),
        EntityKind::Action => (
            format!(
                "Action{}",
                text("description")
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ),
            Some(Page::MyActions.href()),
        ),
        _ => (
            format!(
                "{label}{}",
                text("name").map(|n| format!(": {n}")).unwrap_or_default()
            ),
            None,
        ),
    }
}
