//! Browser tests (wasm-bindgen-test in headless Chromium): the app's components and sync client
//! running in a real DOM with real local storage. Synthetic data only.
#![cfg(target_arch = "wasm32")]

use chrono::{Duration, Utc};
use leptos::prelude::*;
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

use mdt::core::entities::{Entity, Meeting, MeetingStatus, Person, Role, Team};
use mdt::core::sync::{PullResponse, SyncRecord};
use mdt::web::components::SyncIndicator;
use mdt::web::pages::teams::TeamsPage;
use mdt::web::sync::SyncClient;

wasm_bindgen_test_configure!(run_in_browser);

/// Lets effects and renders settle.
async fn settle() {
    gloo_timers::future::TimeoutFuture::new(20).await;
}

fn container() -> web_sys::HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let div = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

fn record<E: Entity>(id: Uuid, entity: &E) -> SyncRecord {
    SyncRecord {
        entity: E::KIND,
        id,
        version: 1,
        updated_at: Utc::now(),
        updated_by: "Test Coordinator".into(),
        deleted: false,
        fields: entity.to_fields(),
        field_stamps: Default::default(),
        conflicts: Vec::new(),
    }
}

fn gp() -> Person {
    Person {
        name: "Dr Ada Synthetic".into(),
        role: Role::Gp,
        organisation_id: None,
        phone: None,
        email: None,
        last_confirmed: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
    }
}

#[wasm_bindgen_test]
async fn the_teams_page_lists_a_team_with_its_next_meeting_in_uk_time() {
    let el = container();
    let person_id = Uuid::new_v4();
    let team_id = Uuid::new_v4();
    let starts_at = Utc::now() + Duration::days(3);
    let owner = Owner::new();
    let sync = owner.with(|| SyncClient::new(Uuid::new_v4()));
    let handle = leptos::mount::mount_to(el.clone(), move || {
        provide_context(sync);
        view! { <TeamsPage/> }
    });
    settle().await;
    assert!(
        el.inner_text().contains("You are not in any team yet"),
        "{}",
        el.inner_text()
    );

    sync.replica.update(|r| {
        r.apply_pull(PullResponse {
            records: vec![
                record(person_id, &gp()),
                record(
                    team_id,
                    &Team {
                        name: "Synthetic Valley MDT".into(),
                        coordinator_id: person_id,
                        member_ids: vec![person_id],
                        required_roles: vec![Role::Gp],
                        default_minutes: 60,
                        place: "Room 1".into(),
                        video_link: None,
                        agenda_cutoff_hours: 48,
                        brief_cutoff_hours: 24,
                    },
                ),
                record(
                    Uuid::new_v4(),
                    &Meeting {
                        team_id,
                        starts_at,
                        ends_at: starts_at + Duration::minutes(60),
                        place: "Room 1".into(),
                        video_link: None,
                        status: MeetingStatus::Planned,
                    },
                ),
            ],
            cursor: 3,
            more: false,
        })
    });
    settle().await;
    let text = el.inner_text();
    assert!(text.contains("Synthetic Valley MDT"), "{text}");
    let expected = format!("next meeting {}", mdt::core::uk_time::format_uk(starts_at));
    assert!(text.contains(&expected), "{text} should contain {expected}");
    let link = el.query_selector("a.nhsuk-card__link").unwrap().unwrap();
    assert_eq!(
        link.get_attribute("href").unwrap(),
        format!("/teams/{team_id}")
    );
    drop(handle);
}

#[wasm_bindgen_test]
async fn the_sync_indicator_counts_unsent_changes_and_they_survive_a_reload() {
    let user = Uuid::new_v4();
    let el = container();
    let owner = Owner::new();
    let sync = owner.with(|| SyncClient::new(user));
    let handle = leptos::mount::mount_to(el.clone(), move || {
        provide_context(sync);
        view! { <SyncIndicator/> }
    });
    settle().await;
    let status = || {
        el.query_selector("[data-testid=sync-status]")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap()
    };
    assert!(status().contains("all changes saved"), "{}", status());

    // A valid change is queued and shown; an invalid one is refused before it is queued.
    let id = Uuid::new_v4();
    sync.save(id, &gp()).expect("valid");
    let err = sync
        .save(
            Uuid::new_v4(),
            &Person {
                name: "  ".into(),
                ..gp()
            },
        )
        .unwrap_err();
    assert_eq!(err.message, "Enter the person's full name");
    settle().await;
    assert!(status().contains("1 unsent change"), "{}", status());
    // The test page has no API behind it, so the change stays queued (and says why).
    gloo_timers::future::TimeoutFuture::new(300).await;
    assert_eq!(sync.unsent(), 1);

    // A fresh client for the same user (a reload) restores the outbox from this device.
    let restored = owner.with(|| SyncClient::new(user));
    assert_eq!(restored.unsent(), 1);
    assert_eq!(
        restored
            .replica
            .with_untracked(|r| r.view(id).and_then(|v| v.typed::<Person>())),
        Some(gp())
    );
    restored.wipe();
    let fresh = owner.with(|| SyncClient::new(user));
    assert_eq!(fresh.unsent(), 0, "sign-out wipes this device's copy");
    drop(handle);
}
