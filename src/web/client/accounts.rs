//! Who on a team cannot sign in (a GP who never logs on), asked of the server: the coordinator
//! keeps their availability and answers their actions for them, and nobody waits for them to
//! read a brief.

use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use crate::core::entities::Team;
use crate::web::client::api;
use crate::web::client::sync::SyncClient;

/// Which of the team's people cannot sign in, as the server says (`None` until it answers, or
/// offline: then nobody is marked either way). Asked again whenever the server's copy of the
/// team changes (someone joins or leaves), never about a team the server does not have yet.
pub fn use_members_without_accounts(team_id: Uuid) -> RwSignal<Option<Vec<Uuid>>> {
    use_without_accounts_of(move || Some(team_id))
}

/// [`use_members_without_accounts`] for a team known only once something has loaded (the
/// patient's team on the patient page); `team` returns `None` until then.
pub fn use_without_accounts_of(
    team: impl Fn() -> Option<Uuid> + Send + Sync + 'static,
) -> RwSignal<Option<Vec<Uuid>>> {
    let sync = expect_context::<SyncClient>();
    let without = RwSignal::new(None::<Vec<Uuid>>);
    let asked = Memo::new(move |_| {
        let team_id = team()?;
        let version = sync.versioned::<Team>(team_id).map(|(v, _)| v)?;
        (version > 0).then_some((team_id, version))
    });
    Effect::new(move || {
        let Some((team_id, _)) = asked.get() else {
            return;
        };
        spawn_local(async move {
            if let Ok(answer) = api::members_without_accounts(team_id).await {
                let _ = without.try_set(Some(answer.person_ids));
            }
        });
    });
    without
}

/// Everyone who cannot sign in across `teams` (the teams a coordinator runs, for the home
/// page's warnings), asked once per team and again when a team's server copy changes.
pub fn use_without_accounts_of_teams(
    teams: impl Fn() -> Vec<Uuid> + Send + Sync + 'static,
) -> Memo<Vec<Uuid>> {
    let sync = expect_context::<SyncClient>();
    let answers = RwSignal::new(std::collections::HashMap::<Uuid, Vec<Uuid>>::new());
    let asked = Memo::new(move |_| {
        teams()
            .into_iter()
            .filter_map(|team_id| {
                let version = sync.versioned::<Team>(team_id).map(|(v, _)| v)?;
                (version > 0).then_some((team_id, version))
            })
            .collect::<Vec<_>>()
    });
    Effect::new(move || {
        for (team_id, _) in asked.get() {
            spawn_local(async move {
                if let Ok(answer) = api::members_without_accounts(team_id).await {
                    let _ = answers.try_update(|a| a.insert(team_id, answer.person_ids));
                }
            });
        }
    });
    Memo::new(move |_| {
        let mut people: Vec<Uuid> = answers.with(|a| a.values().flatten().copied().collect());
        people.sort_unstable();
        people.dedup();
        people
    })
}
