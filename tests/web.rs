//! Browser tests (wasm-bindgen-test in headless Chromium): the app's components and sync client
//! running in a real DOM with real browser storage (IndexedDB, WebCrypto). Synthetic data only.
#![cfg(target_arch = "wasm32")]

use chrono::{Duration, Utc};
use leptos::prelude::*;
use uuid::Uuid;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

use mdt::core::entities::{Entity, Meeting, MeetingStatus, Person, Role, Team};
use mdt::core::sync::{PullResponse, SyncRecord};
use mdt::web::client::sync::SyncClient;
use mdt::web::components::SyncIndicator;
use mdt::web::pages::teams::TeamsPage;

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

/// A new device's home page never says "nothing needs you" or "not in any team" before its first
/// sync has brought the person's records (hazard H41): it says the work is on its way.
#[wasm_bindgen_test]
async fn a_new_devices_home_page_says_its_work_is_coming_until_the_first_sync_is_in() {
    let el = container();
    let owner = Owner::new();
    let me = mdt::core::api::CurrentUser {
        user_id: Uuid::new_v4(),
        name: "Dr Gita Synthetic".into(),
        email: "gita.synthetic@example.nhs.net".into(),
        person_id: Uuid::new_v4(),
        site_admin: false,
        signed_in_through_organisation: false,
    };
    let sync = owner.with(|| SyncClient::open(me.clone(), None, None));
    let handle = leptos::mount::mount_to(el.clone(), move || {
        provide_context(sync);
        provide_context(me.clone());
        view! { <TeamsPage/> }
    });
    settle().await;
    let text = el.inner_text();
    assert!(
        text.contains("Fetching your teams' meetings, briefs and actions to this device"),
        "{text}"
    );
    assert!(!text.contains("Nothing needs you"), "{text}");
    assert!(!text.contains("You are not in any team yet"), "{text}");
    assert!(!text.contains("Your teams"), "{text}");

    sync.note_copy_held();
    settle().await;
    let text = el.inner_text();
    assert!(!text.contains("Fetching your teams'"), "{text}");
    assert!(text.contains("Nothing needs you this week"), "{text}");
    assert!(text.contains("You are not in any team yet"), "{text}");
    drop(handle);
}

#[wasm_bindgen_test]
async fn the_teams_page_lists_a_team_with_its_next_meeting_in_uk_time() {
    let el = container();
    let person_id = Uuid::new_v4();
    let team_id = Uuid::new_v4();
    let starts_at = Utc::now() + Duration::days(3);
    let owner = Owner::new();
    let sync = owner.with(|| SyncClient::new(Uuid::new_v4()));
    let me = mdt::core::api::CurrentUser {
        user_id: Uuid::new_v4(),
        name: "Dr Gita Synthetic".into(),
        email: "gita.synthetic@example.nhs.net".into(),
        person_id,
        site_admin: false,
        signed_in_through_organisation: false,
    };
    let handle = leptos::mount::mount_to(el.clone(), move || {
        provide_context(sync);
        provide_context(me.clone());
        view! { <TeamsPage/> }
    });
    settle().await;
    assert!(
        el.inner_text().contains("Nothing needs you this week"),
        "{}",
        el.inner_text()
    );
    assert!(
        el.inner_text().contains("You are not in any team yet"),
        "{}",
        el.inner_text()
    );

    sync.replica().update(|r| {
        r.apply_pull(PullResponse {
            records: vec![
                record(person_id, &gp()),
                record(
                    team_id,
                    &Team {
                        name: "Synthetic Valley MDT".into(),
                        coordinator_id: person_id,
                        member_ids: vec![person_id],
                        observer_ids: vec![],
                        required_roles: vec![Role::Gp.into()],
                        default_minutes: 60,
                        place: "Room 1".into(),
                        video_link: None,
                        agenda_cutoff_hours: 48,
                        brief_cutoff_hours: 24,
                        archived: false,
                        observers_see_measures: false,
                        email_people_without_accounts: false,
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
    // What needs them: the meeting in three days, not answered; as its coordinator, the GP
    // the quorum needs is only expected (themselves, not yet answered).
    for line in [
        "Your meetings this week",
        "Not answered: say if you are coming",
        "not yet confirmed who comes for GP",
    ] {
        assert!(text.contains(line), "{text} should contain {line}");
    }
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
async fn unsent_changes_survive_a_reload_encrypted_and_open_only_with_the_password() {
    use mdt::core::api::CurrentUser;
    use mdt::web::client::vault::{self, Vault, VaultError};
    let user = CurrentUser {
        user_id: Uuid::new_v4(),
        name: "Pat Coordinator".into(),
        email: "pat.coordinator@example.nhs.net".into(),
        person_id: Uuid::new_v4(),
        site_admin: false,
        signed_in_through_organisation: false,
    };
    let device_key = "0123456789abcdef".repeat(4);
    let password = "correct-horse-battery";
    let el = container();
    let owner = Owner::new();
    let vault = Vault::open_signed_in(&user, &device_key, Some(password))
        .await
        .expect("a new copy");
    let sync = owner.with(|| SyncClient::open(user.clone(), Some(vault), None));
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
    // Nothing to send and never synced (no server in this test): it says it is connecting.
    assert_eq!(status(), "Connecting to the server…");

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
    assert!(
        status().contains("1 unsent change (oldest just now)"),
        "{}",
        status()
    );
    // The test page has no API behind it, so the change stays queued.
    gloo_timers::future::TimeoutFuture::new(300).await;
    assert_eq!(sync.unsent(), 1);
    sync.stop();
    sync.flush().await;

    // What is on disk is ciphertext: the name typed is nowhere in it.
    let db =
        mdt::web::client::idb::open(&format!("mdt-copy-{}", user.user_id), &["meta", "records"])
            .await
            .unwrap();
    let stored = mdt::web::client::idb::get(&db, "meta", "state")
        .await
        .unwrap()
        .expect("saved");
    let bytes = js_sys::Uint8Array::new(&stored).to_vec();
    assert!(bytes.len() > 28);
    assert!(!String::from_utf8_lossy(&bytes).contains("Ada Synthetic"));
    db.close();

    // A reload while offline: the password opens the copy, with the change still unsent.
    assert!(
        Vault::open_with_password(user.user_id, "wrong password!")
            .await
            .err()
            == Some(VaultError::WrongPassword)
    );
    let reopened = Vault::open_with_password(user.user_id, password)
        .await
        .expect("opens");
    let loaded = reopened.load().await.unwrap().expect("a saved copy");
    assert_eq!(loaded.state.user, user);
    let restored = owner.with(|| SyncClient::open(user.clone(), Some(reopened), Some(loaded)));
    assert_eq!(restored.unsent(), 1);
    assert_eq!(
        restored
            .replica()
            .with_untracked(|r| r.view(id).and_then(|v| v.typed::<Person>())),
        Some(gp())
    );
    assert!(restored.oldest_unsent().is_some());
    // Online again with a session, the server's key opens it too.
    let by_server = Vault::open_signed_in(&user, &device_key, None)
        .await
        .expect("opens");
    assert_eq!(
        by_server
            .load()
            .await
            .unwrap()
            .unwrap()
            .replica
            .outbox
            .len(),
        1
    );
    // Sign-out wipes the copy from this device.
    restored.stop();
    restored.wipe().await;
    assert!(!Vault::opens_offline(user.user_id).await);
    assert!(vault::last_user().is_none());
    drop(handle);
}

/// A team with `items` patient items on one meeting, as a pull would deliver it.
fn agenda_records(items: usize) -> (Uuid, Uuid, Vec<SyncRecord>) {
    use mdt::core::agenda::{AgendaItem, ItemKind, ItemStatus};
    use mdt::core::patient::Patient;
    let me = Uuid::from_u128(1);
    let team_id = Uuid::from_u128(2);
    let meeting_id = Uuid::from_u128(3);
    let starts_at = Utc::now() + Duration::days(14);
    let mut records = vec![
        record(me, &gp()),
        record(
            team_id,
            &Team {
                name: "Synthetic Valley MDT".into(),
                coordinator_id: me,
                member_ids: vec![],
                observer_ids: vec![],
                required_roles: vec![Role::Gp.into()],
                default_minutes: 90,
                place: "Room 1".into(),
                video_link: None,
                agenda_cutoff_hours: 48,
                brief_cutoff_hours: 24,
                archived: false,
                observers_see_measures: false,
                email_people_without_accounts: false,
            },
        ),
        record(
            meeting_id,
            &Meeting {
                team_id,
                starts_at,
                ends_at: starts_at + Duration::minutes(90),
                place: "Room 1".into(),
                video_link: None,
                status: MeetingStatus::Planned,
            },
        ),
    ];
    // Synthetic NHS numbers: 999 prefix with a valid Modulus 11 check digit.
    let mut n = 0u32;
    for i in 0..items {
        let nhs = loop {
            n += 1;
            let prefix = format!("999{n:06}");
            let nine: [u8; 9] = std::array::from_fn(|d| prefix.as_bytes()[d] - b'0');
            if let Some(check) = mdt::core::patient::check_digit(&nine) {
                break format!("999{n:06}{check}");
            }
        };
        let patient_id = Uuid::from_u128(10_000 + i as u128);
        records.push(record(
            patient_id,
            &Patient {
                team_id,
                nhs_number: nhs,
                name: format!("Patient {i} Synthetic"),
                date_of_birth: chrono::NaiveDate::from_ymd_opt(1940, 1, 1).unwrap(),
                registered_practice_id: None,
                objects_to_sharing: false,
                lead_professional_id: Some(me),
            },
        ));
        records.push(record(
            Uuid::from_u128(20_000 + i as u128),
            &AgendaItem {
                team_id,
                meeting_id,
                kind: ItemKind::PatientDiscussion,
                title: String::new(),
                patient_id: Some(patient_id),
                reason: "Frequent falls".into(),
                question: "Is a care review needed?".into(),
                requested_by: Some(me),
                requested_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
                lead_professional_id: Some(me),
                minutes: 5,
                position: (i as i64 + 1) * 1024,
                required_people: vec![me],
                late: false,
                deferrals: (i % 3) as u32,
                carried_from: None,
                status: ItemStatus::Open,
                outcome: None,
                summary_sent_on: None,
                restricted: false,
                restricted_to: vec![],
                content_withheld: false,
            },
        ));
    }
    (me, meeting_id, records)
}

/// A sync client holding `records` as if just pulled, and Dr Ada Synthetic (`person`) signed in.
fn signed_in_with(
    owner: &Owner,
    records: Vec<SyncRecord>,
    person: Uuid,
) -> (SyncClient, mdt::core::api::CurrentUser) {
    let sync = owner.with(|| SyncClient::new(Uuid::new_v4()));
    sync.replica().update(|r| {
        r.apply_pull(PullResponse {
            cursor: records.len() as u64,
            records,
            more: false,
        })
    });
    let user = mdt::core::api::CurrentUser {
        user_id: Uuid::new_v4(),
        name: "Dr Ada Synthetic".into(),
        email: "ada@example.nhs.net".into(),
        person_id: person,
        site_admin: false,
        signed_in_through_organisation: false,
    };
    (sync, user)
}

/// One field of a record changed on the server, arriving as the next pull would bring it.
fn pull_field_change(sync: &SyncClient, id: Uuid, field: &str, value: serde_json::Value) {
    sync.replica().update(|r| {
        let mut rec = r.confirmed()[&id].clone();
        rec.version += 1;
        rec.fields.insert(field.into(), value);
        r.apply_pull(PullResponse {
            records: vec![rec],
            cursor: r.cursor + 1,
            more: false,
        });
    });
}

fn mount_agenda(
    el: &web_sys::HtmlElement,
    owner: &Owner,
    me: Uuid,
    meeting_id: Uuid,
    records: Vec<SyncRecord>,
) -> (SyncClient, leptos::mount::UnmountHandle<impl Mountable>) {
    use mdt::web::pages::meeting::MeetingAgenda;
    let (sync, user) = signed_in_with(owner, records, me);
    let handle = leptos::mount::mount_to(el.clone(), move || {
        provide_context(sync);
        provide_context(user.clone());
        view! { <MeetingAgenda meeting_id=meeting_id/> }
    });
    (sync, handle)
}

#[wasm_bindgen_test]
async fn the_agenda_shows_slot_times_flags_and_overrun() {
    let el = container();
    let owner = Owner::new();
    let (me, meeting_id, mut records) = agenda_records(20);
    // Patient 3 has objected to their information being shared.
    let objecting = records
        .iter_mut()
        .find(|r| r.fields.get("name") == Some(&serde_json::json!("Patient 3 Synthetic")))
        .unwrap();
    objecting
        .fields
        .insert("objects_to_sharing".into(), serde_json::json!(true));
    let (_sync, handle) = mount_agenda(&el, &owner, me, meeting_id, records);
    settle().await;
    let items = el.query_selector_all("[data-testid=agenda-item]").unwrap();
    assert_eq!(items.length(), 20);
    let flagged = el
        .query_selector_all("[data-testid=objects-to-sharing]")
        .unwrap();
    assert_eq!(
        flagged.length(),
        1,
        "only the objecting patient's item is flagged"
    );
    let flagged_item = flagged
        .get(0)
        .unwrap()
        .unchecked_into::<web_sys::Element>()
        .closest("[data-testid=agenda-item]")
        .unwrap()
        .unwrap();
    assert!(flagged_item
        .text_content()
        .unwrap()
        .contains("Patient 3 Synthetic"));
    let text = el.inner_text();
    assert!(text.contains("100 minutes of 90 minutes planned"), "{text}");
    assert!(
        el.query_selector("[data-testid=overrun]")
            .unwrap()
            .is_some(),
        "20 × 5 minutes overruns 90"
    );
    assert!(text.contains("Deferred 2×"));
    assert!(
        text.contains("Patient 0 Synthetic (NHS 999 000 0018, born 1 Jan 1940)"),
        "{text}"
    );
    assert!(el
        .query_selector("[data-testid=readiness]")
        .unwrap()
        .is_some());
    drop(handle);
}

/// Benchmark (prints, never fails on time): mount an agenda of 200 patient items, re-render it
/// after one item moves to the end, and after one item's text changes. Run `./scripts/bench.sh` to see the figures.
#[wasm_bindgen_test]
async fn bench_render_an_agenda_of_200_patient_items() {
    let performance = web_sys::window().unwrap().performance().unwrap();
    let mut mounts = Vec::new();
    let mut updates = Vec::new();
    let mut edits = Vec::new();
    let (mut loading, mut working_out) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        // The parts of a mount before any rendering, measured on their own: loading the records
        // into a fresh replica, and working out the view model from it (every record parsed).
        {
            let (_, meeting_id, records) = agenda_records(200);
            let start = performance.now();
            let mut replica = mdt::core::sync::Replica::new(Uuid::new_v4());
            replica.apply_pull(PullResponse {
                cursor: records.len() as u64,
                records,
                more: false,
            });
            loading.push(performance.now() - start);
            let start = performance.now();
            let view = mdt::web::views::agenda::AgendaView::load(&replica, meeting_id).unwrap();
            let rows = view.rows(true);
            working_out.push(performance.now() - start);
            assert_eq!(rows.len(), 200);
        }
        let el = container();
        let owner = Owner::new();
        let (me, meeting_id, records) = agenda_records(200);
        let start = performance.now();
        let (sync, handle) = mount_agenda(&el, &owner, me, meeting_id, records);
        let count = el
            .query_selector_all("[data-testid=agenda-item]")
            .unwrap()
            .length();
        mounts.push(performance.now() - start);
        assert_eq!(count, 200);

        // One item changes (as after a reorder or a pull): the agenda re-renders.
        let start = performance.now();
        pull_field_change(
            &sync,
            Uuid::from_u128(20_000),
            "position",
            serde_json::json!(1_000_000),
        );
        // Effects run in a microtask; measure to the end of the render.
        leptos::task::tick().await;
        let first = el
            .query_selector("[data-testid=agenda-item] h3")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap();
        updates.push(performance.now() - start);
        assert!(first.contains("Patient 1 Synthetic"), "{first}");

        // One item's text changes (a typical pull): only its line is re-rendered.
        let start = performance.now();
        pull_field_change(
            &sync,
            Uuid::from_u128(20_100),
            "reason",
            serde_json::json!("Changed reason"),
        );
        leptos::task::tick().await;
        let changed = el
            .text_content()
            .unwrap_or_default()
            .contains("Changed reason");
        edits.push(performance.now() - start);
        assert!(changed);
        drop(handle);
        el.remove();
    }
    let rounded = |v: &[f64]| {
        v.iter()
            .map(|t| (t * 10.0).round() / 10.0)
            .collect::<Vec<_>>()
    };
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    wasm_bindgen_test::console_log!(
        "BENCH agenda-200: mount median {:.1} ms {:?} (of which about {:.1} ms loading the replica and {:.1} ms working out the view and its rows); after a reorder (every slot time shifts) median {:.1} ms {:?}; after one item's text changes median {:.1} ms {:?}",
        median(&mut mounts),
        rounded(&mounts),
        median(&mut loading),
        median(&mut working_out),
        median(&mut updates),
        rounded(&updates),
        median(&mut edits),
        rounded(&edits)
    );
}

/// The agenda's list keeps its lines like a keyed list: an unchanged line keeps its element (so
/// focus and anything mounted in it stay), a changed line gets a new one, and a move touches
/// only the moved line.
#[wasm_bindgen_test]
fn markup_lines_keep_unchanged_lines_and_move_only_what_moved() {
    use mdt::web::components::markup_list::{longest_increasing, MarkupLines};

    assert_eq!(
        longest_increasing(&[Some(1), Some(2), Some(3), Some(4), Some(0)]),
        vec![true, true, true, true, false]
    );
    assert_eq!(
        longest_increasing(&[None, Some(3), Some(0), None, Some(1), Some(2)]),
        vec![false, false, true, false, true, true]
    );
    assert_eq!(longest_increasing(&[]), Vec::<bool>::new());
    assert_eq!(longest_increasing(&[None, None]), vec![false, false]);

    let document = web_sys::window().unwrap().document().unwrap();
    let list = document.create_element("ol").unwrap();
    document.body().unwrap().append_child(&list).unwrap();
    let line = |key: u128, text: &str| (Uuid::from_u128(key), format!("<li>{text}</li>"));
    let texts = |list: &web_sys::Element| {
        let mut out = Vec::new();
        let mut next = list.first_element_child();
        while let Some(e) = next {
            out.push(e.text_content().unwrap());
            next = e.next_element_sibling();
        }
        out
    };
    let first: Vec<_> = (0..5).map(|k| line(k, &format!("line {k}"))).collect();
    list.set_inner_html(&first.iter().map(|(_, h)| h.as_str()).collect::<String>());
    let mut lines = MarkupLines::adopt(&list, &first);
    let before: Vec<web_sys::Element> = lines.elements().cloned().collect();

    // Every node put into the list while it changes is recorded (and read with take_records).
    let callback = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(|| {});
    let observer = web_sys::MutationObserver::new(callback.as_ref().unchecked_ref()).unwrap();
    let options = web_sys::MutationObserverInit::new();
    options.set_child_list(true);
    observer.observe_with_options(&list, &options).unwrap();
    let taken = |observer: &web_sys::MutationObserver| {
        observer
            .take_records()
            .iter()
            .map(|r| {
                r.unchecked_into::<web_sys::MutationRecord>()
                    .added_nodes()
                    .length()
            })
            .sum::<u32>()
    };

    // The first line moves to the end: one element moves, every element is kept.
    let moved: Vec<_> = [1, 2, 3, 4, 0]
        .iter()
        .map(|&k| line(k, &format!("line {k}")))
        .collect();
    lines.update(&list, &moved);
    assert_eq!(taken(&observer), 1, "only the moved line is inserted");
    assert_eq!(
        texts(&list),
        ["line 1", "line 2", "line 3", "line 4", "line 0"]
    );
    let after: Vec<web_sys::Element> = lines.elements().cloned().collect();
    assert_eq!(after[4], before[0]);
    assert_eq!(after[0], before[1]);

    // One line changes, one goes, one comes: only the changed and new lines are new elements.
    let mut changed = moved.clone();
    changed[1] = line(2, "line 2, changed");
    changed.remove(3);
    changed.push(line(9, "line 9"));
    lines.update(&list, &changed);
    assert_eq!(taken(&observer), 2, "the changed line and the new one");
    assert_eq!(
        texts(&list),
        ["line 1", "line 2, changed", "line 3", "line 0", "line 9"]
    );
    let now: Vec<web_sys::Element> = lines.elements().cloned().collect();
    assert_eq!(now[0], before[1]);
    assert_ne!(now[1], before[2]);
    assert_eq!(now[2], before[3]);
    assert_eq!(now[3], before[0]);
    assert!(!list.contains(Some(&before[4])), "the removed line is gone");
    assert_eq!(list.child_element_count(), 5);

    // Markup that is not one element a line is never shown half right: the list is rewritten.
    let odd = vec![
        (Uuid::from_u128(1), "<li>a</li><li>b</li>".to_string()),
        line(7, "c"),
    ];
    lines.update(&list, &odd);
    assert_eq!(texts(&list), ["a", "b", "c"]);
    lines.update(&list, &[line(8, "d"), line(7, "c")]);
    assert_eq!(texts(&list), ["d", "c"]);
    // A key used twice (which the pages never do) still shows every line, and loses none later.
    lines.update(&list, &[line(8, "d"), line(8, "d again"), line(7, "c")]);
    assert_eq!(texts(&list), ["d", "d again", "c"]);
    lines.update(&list, &[line(7, "c")]);
    assert_eq!(texts(&list), ["c"]);
    lines.update(&list, &[]);
    assert_eq!(list.child_element_count(), 0);
    observer.disconnect();
    drop(callback);
    list.remove();
}

/// The outcome form and the restriction controls are mounted into their lines by the list: the
/// form keeps what was typed when a change to its own line arrives from the server or the line
/// moves, the running meeting's item is marked, a moved line keeps the keyboard, and closing the
/// form takes it away.
#[wasm_bindgen_test]
async fn agenda_lines_keep_an_open_outcome_form_through_a_pulled_change() {
    let el = container();
    let owner = Owner::new();
    let (me, meeting_id, mut records) = agenda_records(3);
    let restricted = records
        .iter_mut()
        .find(|r| r.id == Uuid::from_u128(20_002))
        .unwrap();
    restricted
        .fields
        .insert("restricted".into(), serde_json::json!(true));
    let (sync, handle) = mount_agenda(&el, &owner, me, meeting_id, records);
    settle().await;
    let line = |n: u128| {
        el.query_selector(&format!(
            "[data-testid=agenda-item][data-id=\"{}\"]",
            Uuid::from_u128(n)
        ))
        .unwrap()
        .unwrap()
    };
    assert!(
        line(20_002)
            .query_selector("[data-testid=restriction-controls]")
            .unwrap()
            .is_some(),
        "the coordinator sees the restricted item's controls in its line"
    );
    assert!(line(20_000)
        .query_selector("[data-testid=restriction-controls]")
        .unwrap()
        .is_none());

    line(20_000)
        .query_selector("button[data-action=record-outcome]")
        .unwrap()
        .unwrap()
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
    settle().await;
    let textarea: web_sys::HtmlTextAreaElement = line(20_000)
        .query_selector("[data-testid=outcome-form] textarea")
        .unwrap()
        .expect("the form opens in its line")
        .unchecked_into();
    textarea.set_value("Half-written decision");
    textarea
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();

    // Someone else changes the same item's reason: its line is rewritten, the form moves with it.
    pull_field_change(
        &sync,
        Uuid::from_u128(20_000),
        "reason",
        serde_json::json!("Changed reason"),
    );
    settle().await;
    assert!(line(20_000)
        .text_content()
        .unwrap()
        .contains("Changed reason"));
    let forms = el.query_selector_all("[data-testid=outcome-form]").unwrap();
    assert_eq!(forms.length(), 1);
    let kept: web_sys::HtmlTextAreaElement = line(20_000)
        .query_selector("[data-testid=outcome-form] textarea")
        .unwrap()
        .expect("the form is still in its line")
        .unchecked_into();
    assert_eq!(kept.value(), "Half-written decision");
    let body = line(20_000)
        .query_selector(".mdt-agenda__body")
        .unwrap()
        .unwrap();
    let last = body.last_element_child().unwrap();
    assert!(
        last.class_list().contains("mdt-agenda__actions"),
        "the buttons stay last: {}",
        body.outer_html()
    );

    // A meeting is run on its day: none to run two weeks ahead; moved to today (from 00:00 UK,
    // which has always begun), it can be.
    let has_run_button = || {
        let buttons = el.query_selector_all("button").unwrap();
        (0..buttons.length()).any(|i| {
            buttons.get(i).unwrap().text_content().unwrap_or_default() == "Run the meeting"
        })
    };
    assert!(!has_run_button(), "no running a meeting two weeks ahead");
    let today = mdt::core::uk_time::uk_today(Utc::now());
    let midnight = mdt::core::uk_time::from_uk(today.and_hms_opt(0, 0, 0).unwrap()).unwrap();
    pull_field_change(&sync, meeting_id, "starts_at", serde_json::json!(midnight));
    pull_field_change(
        &sync,
        meeting_id,
        "ends_at",
        serde_json::json!(midnight + Duration::minutes(90)),
    );
    settle().await;

    // Running the meeting marks the first item as the one being discussed.
    let run = el.query_selector_all("button").unwrap();
    let run = (0..run.length())
        .map(|i| run.get(i).unwrap().unchecked_into::<web_sys::HtmlElement>())
        .find(|b| b.text_content().unwrap_or_default() == "Run the meeting")
        .expect("the coordinator can run the meeting");
    run.click();
    settle().await;
    assert_eq!(
        line(20_000).get_attribute("aria-current").as_deref(),
        Some("step")
    );
    assert!(line(20_000)
        .class_list()
        .contains("mdt-agenda__item--current"));
    assert!(line(20_001).get_attribute("aria-current").is_none());

    // Move up and down show only once the order is being changed (the stylesheet hides them
    // outside `.mdt-agenda--reordering`; the e2e agenda test checks what is seen).
    let reordering = || {
        el.query_selector("ol.mdt-agenda")
            .unwrap()
            .unwrap()
            .class_list()
            .contains("mdt-agenda--reordering")
    };
    assert!(!reordering(), "no Move up or down until asked for");
    let buttons = el.query_selector_all("button").unwrap();
    (0..buttons.length())
        .map(|i| {
            buttons
                .get(i)
                .unwrap()
                .unchecked_into::<web_sys::HtmlElement>()
        })
        .find(|b| b.text_content().unwrap_or_default() == "Change the order")
        .expect("the coordinator can change the order")
        .click();
    settle().await;
    assert!(reordering(), "Move up and down shown while reordering");

    // Moving the line down (with its form open) keeps the form in it, and the keyboard on the
    // same button of the moved line.
    line(20_000)
        .query_selector("button[data-action=move-down]")
        .unwrap()
        .unwrap()
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
    settle().await;
    assert_eq!(
        line(20_000).get_attribute("data-index").as_deref(),
        Some("1")
    );
    assert_eq!(
        line(20_000)
            .query_selector("[data-testid=outcome-form] textarea")
            .unwrap()
            .expect("the form moved with its line")
            .unchecked_into::<web_sys::HtmlTextAreaElement>()
            .value(),
        "Half-written decision"
    );
    let focused = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .active_element()
        .expect("a focused element");
    assert_eq!(
        Some(focused),
        line(20_000)
            .query_selector("button[data-action=move-down]")
            .unwrap(),
        "the keyboard stays on the moved line's Move down"
    );

    // Cancelling the form takes it away.
    let cancel = line(20_000)
        .query_selector_all("[data-testid=outcome-form] button")
        .unwrap();
    let cancel = (0..cancel.length())
        .map(|i| {
            cancel
                .get(i)
                .unwrap()
                .unchecked_into::<web_sys::HtmlElement>()
        })
        .find(|b| b.text_content().unwrap_or_default() == "Cancel")
        .expect("the form can be cancelled");
    cancel.click();
    settle().await;
    assert_eq!(
        el.query_selector_all("[data-testid=outcome-form]")
            .unwrap()
            .length(),
        0
    );
    drop(handle);
    el.remove();
}

/// A team with `n` actions spread over 3 owners and 500 patients, as a pull would deliver it.
fn action_records(n: usize) -> (Uuid, Vec<SyncRecord>) {
    use mdt::core::action::{Action, ActionStatus};
    use mdt::core::patient::Patient;
    let team_id = Uuid::from_u128(2);
    let owners: Vec<(Uuid, &str, Role)> = vec![
        (Uuid::from_u128(1), "Dr Ada Synthetic", Role::Gp),
        (Uuid::from_u128(4), "Sol Worker", Role::SocialWorker),
        (Uuid::from_u128(5), "Grace Placeholder", Role::DistrictNurse),
    ];
    let mut records: Vec<SyncRecord> = owners
        .iter()
        .map(|(id, name, role)| {
            record(
                *id,
                &Person {
                    name: (*name).into(),
                    role: *role,
                    ..gp()
                },
            )
        })
        .collect();
    records.push(record(
        team_id,
        &Team {
            name: "Synthetic Valley MDT".into(),
            coordinator_id: owners[0].0,
            member_ids: owners[1..].iter().map(|o| o.0).collect(),
            observer_ids: vec![],
            required_roles: vec![],
            default_minutes: 90,
            place: String::new(),
            video_link: None,
            agenda_cutoff_hours: 48,
            brief_cutoff_hours: 24,
            archived: false,
            observers_see_measures: false,
            email_people_without_accounts: false,
        },
    ));
    let patients = 500.min(n.max(1));
    let mut k = 0u32;
    for i in 0..patients {
        let nhs = loop {
            k += 1;
            let prefix = format!("999{k:06}");
            let nine: [u8; 9] = std::array::from_fn(|d| prefix.as_bytes()[d] - b'0');
            if let Some(check) = mdt::core::patient::check_digit(&nine) {
                break format!("{prefix}{check}");
            }
        };
        records.push(record(
            Uuid::from_u128(10_000 + i as u128),
            &Patient {
                team_id,
                nhs_number: nhs,
                name: format!("Patient {i} Synthetic"),
                date_of_birth: chrono::NaiveDate::from_ymd_opt(1940, 1, 1).unwrap(),
                registered_practice_id: None,
                objects_to_sharing: false,
                lead_professional_id: None,
            },
        ));
    }
    let verbs = [
        "Refer", "Review", "Call", "Visit", "Arrange", "Chase", "Book", "Check",
    ];
    let objects = [
        "falls service",
        "medication",
        "care package",
        "respite stay",
        "OT assessment",
        "housing",
        "benefits advice",
        "blood tests",
    ];
    let statuses = [
        ActionStatus::Proposed,
        ActionStatus::Accepted,
        ActionStatus::Declined,
    ];
    for i in 0..n {
        let status = statuses[i % 3];
        records.push(record(
            Uuid::from_u128(100_000 + i as u128),
            &Action {
                team_id,
                description: format!("{} {} for visit {i}", verbs[i % 8], objects[(i / 8) % 8]),
                owner_id: owners[i % 3].0,
                due: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
                    + Duration::days((i % 60) as i64),
                patient_id: Some(Uuid::from_u128(10_000 + (i % patients) as u128)),
                meeting_id: None,
                item_id: None,
                status,
                completion_note: String::new(),
                reason: if status == ActionStatus::Declined {
                    "Not my caseload".into()
                } else {
                    String::new()
                },
            },
        ));
    }
    (team_id, records)
}

/// The same rows as plain strings, for the plain-JavaScript list.
fn js_rows(replica: &mdt::core::sync::Replica, team: Uuid) -> js_sys::Array {
    let dir = mdt::web::views::actions::Directory::load(replica);
    let rows = js_sys::Array::new();
    for r in mdt::web::views::actions::action_rows(replica, &dir, Some(team)) {
        let row = js_sys::Array::new();
        for cell in [
            r.action.description.clone(),
            format!("{} {}", r.owner_name, r.owner_organisation),
            r.patient.clone(),
            mdt::core::uk_time::format_date(r.action.due),
            r.action.status.label().to_string(),
        ] {
            row.push(&wasm_bindgen::JsValue::from_str(&cell));
        }
        rows.push(&row);
    }
    rows
}

/// A plain-JavaScript action list: filter every row on each keystroke (all words must appear),
/// then rebuild the visible table rows. The baseline the Leptos page is compared with.
fn js_list() -> js_sys::Function {
    js_sys::Function::new_with_args(
        "container, rows, limit",
        r#"
        const hay = rows.map(r => (r[0] + ' ' + r[1] + ' ' + r[2]).toLowerCase());
        const table = document.createElement('table');
        const tbody = document.createElement('tbody');
        table.appendChild(tbody);
        const count = document.createElement('p');
        container.appendChild(count);
        container.appendChild(table);
        return function render(text) {
          const words = text.toLowerCase().split(/\s+/).filter(Boolean);
          const matches = [];
          for (let i = 0; i < rows.length; i++) {
            if (words.every(w => hay[i].includes(w))) matches.push(i);
          }
          tbody.textContent = '';
          const frag = document.createDocumentFragment();
          for (const i of matches.slice(0, limit)) {
            const tr = document.createElement('tr');
            for (const c of rows[i]) { const td = document.createElement('td'); td.textContent = c; tr.appendChild(td); }
            frag.appendChild(tr);
          }
          tbody.appendChild(frag);
          count.textContent = matches.length + ' actions';
          return matches.length;
        };
        "#,
    )
}

/// Types into the search box as a person would: sets the value and fires a bubbling `input`.
fn type_into(input: &web_sys::HtmlInputElement, value: &str) {
    input.set_value(value);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let event = web_sys::Event::new_with_event_init_dict("input", &init).unwrap();
    input.dispatch_event(&event).unwrap();
}

fn mount_actions(
    el: &web_sys::HtmlElement,
    owner: &Owner,
    records: Vec<SyncRecord>,
    team: Uuid,
    rows: usize,
) -> (SyncClient, leptos::mount::UnmountHandle<impl Mountable>) {
    use mdt::web::pages::team_actions::TeamActions;
    let (sync, user) = signed_in_with(owner, records, Uuid::from_u128(1));
    let handle = leptos::mount::mount_to(el.clone(), move || {
        provide_context(sync);
        provide_context(user.clone());
        view! { <TeamActions team_id=team page_rows=rows/> }
    });
    (sync, handle)
}

#[wasm_bindgen_test]
async fn the_team_action_list_filters_live() {
    let el = container();
    let owner = Owner::new();
    let (team, records) = action_records(300);
    let (_sync, handle) = mount_actions(&el, &owner, records, team, 200);
    settle().await;
    let count = || {
        el.query_selector("[data-testid=action-count]")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap()
    };
    assert_eq!(count(), "Showing 200 of 300 actions");
    let input: web_sys::HtmlInputElement = el
        .query_selector("#filter-text")
        .unwrap()
        .unwrap()
        .unchecked_into();
    type_into(&input, "falls SOL");
    settle().await;
    // "… falls service …" rows owned by Sol: (i / 8) % 8 == 0 and i % 3 == 1.
    let expected = (0..300).filter(|i| (i / 8) % 8 == 0 && i % 3 == 1).count();
    assert_eq!(
        count(),
        format!("{expected} action{}", if expected == 1 { "" } else { "s" })
    );
    drop(handle);
}

/// Benchmark (prints, never fails on time): the team action list beside a plain-JavaScript list
/// of the same rows, in the same browser run. Run `./scripts/bench.sh` to see the figures.
#[wasm_bindgen_test]
async fn bench_team_actions_against_plain_javascript() {
    let performance = web_sys::window().unwrap().performance().unwrap();
    let median = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let js = js_list();

    // Render a 1,000-action list: the default page (first 200 rows) and every row.
    let mut report = Vec::new();
    for shown in [200usize, 1000] {
        let (mut ours, mut theirs, mut loading, mut computing) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..5 {
            let (team, records) = action_records(1000);
            // What part of ours is loading the records into a fresh replica (the plain list
            // is handed rows made beforehand).
            let start = performance.now();
            let load_owner = Owner::new();
            let (loaded, _) = signed_in_with(&load_owner, records.clone(), Uuid::from_u128(1));
            loading.push(performance.now() - start);
            // And what part is working out the rows (the directory, every action's row).
            let start = performance.now();
            loaded.replica().with_untracked(|r| {
                let dir = mdt::web::views::actions::Directory::load(r);
                mdt::web::views::actions::action_rows(r, &dir, Some(team)).len()
            });
            computing.push(performance.now() - start);
            load_owner.cleanup();
            let replica_rows = {
                let mut r = mdt::core::sync::Replica::new(Uuid::new_v4());
                r.apply_pull(PullResponse {
                    records: records.clone(),
                    cursor: 1,
                    more: false,
                });
                js_rows(&r, team)
            };
            let el = container();
            let owner = Owner::new();
            let start = performance.now();
            let (_sync, handle) = mount_actions(&el, &owner, records, team, shown);
            let rows = el
                .query_selector_all("[data-testid=action-row]")
                .unwrap()
                .length();
            ours.push(performance.now() - start);
            assert_eq!(rows as usize, shown);
            drop(handle);
            el.remove();

            let el = container();
            let start = performance.now();
            let render: js_sys::Function = js
                .call3(
                    &wasm_bindgen::JsValue::NULL,
                    &el,
                    &replica_rows,
                    &(shown as u32).into(),
                )
                .unwrap()
                .unchecked_into();
            render
                .call1(&wasm_bindgen::JsValue::NULL, &"".into())
                .unwrap();
            theirs.push(performance.now() - start);
            assert_eq!(
                el.query_selector_all("tr").unwrap().length() as usize,
                shown
            );
            el.remove();
        }
        let (o, t) = (median(ours), median(theirs));
        let (l, c) = (median(loading), median(computing));
        report.push(format!("render 1,000 actions showing {shown}: Leptos {o:.1} ms (of which about {l:.1} ms loading the replica and {c:.1} ms working out the rows), plain JS {t:.1} ms (ratio {:.1})", o / t));
    }

    // Filter keystrokes over 5,000 actions.
    let typed = "refer falls sol";
    let (team, records) = action_records(5000);
    let replica_rows = {
        let mut r = mdt::core::sync::Replica::new(Uuid::new_v4());
        r.apply_pull(PullResponse {
            records: records.clone(),
            cursor: 1,
            more: false,
        });
        js_rows(&r, team)
    };
    let el = container();
    let owner = Owner::new();
    let (_sync, handle) = mount_actions(&el, &owner, records, team, 200);
    let input: web_sys::HtmlInputElement = el
        .query_selector("#filter-text")
        .unwrap()
        .unwrap()
        .unchecked_into();
    let mut ours = Vec::new();
    for round in 0..3 {
        for end in 1..=typed.len() {
            let start = performance.now();
            type_into(&input, &typed[..end]);
            leptos::task::tick().await;
            let shown = el
                .query_selector_all("[data-testid=action-row]")
                .unwrap()
                .length();
            if round > 0 {
                ours.push(performance.now() - start);
            }
            assert!(shown <= 200);
        }
        type_into(&input, "");
        leptos::task::tick().await;
    }
    type_into(&input, typed);
    leptos::task::tick().await;
    let final_count = el
        .query_selector("[data-testid=action-count]")
        .unwrap()
        .unwrap()
        .text_content()
        .unwrap();
    drop(handle);
    el.remove();

    let el = container();
    let render: js_sys::Function = js
        .call3(
            &wasm_bindgen::JsValue::NULL,
            &el,
            &replica_rows,
            &200u32.into(),
        )
        .unwrap()
        .unchecked_into();
    render
        .call1(&wasm_bindgen::JsValue::NULL, &"".into())
        .unwrap();
    let mut theirs = Vec::new();
    for round in 0..3 {
        for end in 1..=typed.len() {
            let start = performance.now();
            render
                .call1(&wasm_bindgen::JsValue::NULL, &typed[..end].into())
                .unwrap();
            if round > 0 {
                theirs.push(performance.now() - start);
            }
        }
        render
            .call1(&wasm_bindgen::JsValue::NULL, &"".into())
            .unwrap();
    }
    let js_count = render
        .call1(&wasm_bindgen::JsValue::NULL, &typed.into())
        .unwrap()
        .as_f64()
        .unwrap();
    el.remove();
    assert!(
        final_count.starts_with(&format!("{js_count} action")),
        "{final_count} vs {js_count}: both lists must show the same matches"
    );
    let (o, t) = (median(ours.clone()), median(theirs.clone()));
    let worst = ours.iter().cloned().fold(0.0, f64::max);
    report.push(format!(
        "filter keystroke over 5,000 actions ({} keystrokes of \"{typed}\"): Leptos median {o:.2} ms (worst {worst:.2} ms), plain JS median {t:.2} ms (ratio {:.1})",
        ours.len(),
        o / t
    ));
    wasm_bindgen_test::console_log!("BENCH team-actions: {}", report.join("; "));
}

/// Benchmark (prints, never fails on time): the slot finder in the browser, on the same
/// workload as `examples/slot_finder_bench.rs`.
#[wasm_bindgen_test]
fn bench_slot_finder_in_the_browser() {
    use mdt::core::calendar::BankHolidays;
    use mdt::core::schedule::{benchmark_query, SlotFinder};
    let performance = web_sys::window().unwrap().performance().unwrap();
    let query = benchmark_query();
    let holidays = BankHolidays::shipped();
    let finder = SlotFinder::new(&query, &holidays);
    let best = finder.find(10);
    assert!(best[0].quorum_met);
    let mut times: Vec<f64> = (0..50)
        .map(|_| {
            let start = performance.now();
            let found = finder.find(10);
            let elapsed = performance.now() - start;
            assert_eq!(found, best);
            elapsed
        })
        .collect();
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    wasm_bindgen_test::console_log!(
        "BENCH slot-finder wasm: 40 members x 26 weeks x 5-minute steps: median {:.2} ms, p90 {:.2} ms, min {:.2} ms over 50 runs (performance.now() resolution applies)",
        times[25],
        times[45],
        times[0]
    );
}

/// Initial sync of a 10,000-record team in the browser: parsing the pull pages, applying them
/// to a new replica, then encrypting and writing the copy kept offline to IndexedDB. Every item
/// is on the team's next meeting, so all of them are kept: the worst case. Prints figures for
/// BENCHMARKS.md (release build via `./scripts/bench.sh`).
#[wasm_bindgen_test]
async fn bench_initial_sync_of_a_10000_record_team() {
    use mdt::core::api::CurrentUser;
    use mdt::core::sync::{PullResponse, Replica, MAX_PULL_RECORDS};
    use mdt::web::client::vault::{self, Vault};
    // Run alone, nothing has started Leptos's task executor yet: mounting does that.
    let started = leptos::mount::mount_to(container(), || ());
    let (_, _, records) = agenda_records(4_999);
    let total = records.len();
    assert!(total >= 10_000);
    // The wire: pages of at most MAX_PULL_RECORDS, as the server sends them.
    let pages: Vec<String> = records
        .chunks(MAX_PULL_RECORDS)
        .enumerate()
        .map(|(i, chunk)| {
            serde_json::to_string(&PullResponse {
                records: chunk.to_vec(),
                cursor: ((i + 1) * MAX_PULL_RECORDS) as u64,
                more: (i + 1) * MAX_PULL_RECORDS < total,
            })
            .unwrap()
        })
        .collect();
    let performance = web_sys::window().unwrap().performance().unwrap();
    let mut apply_ms = Vec::new();
    let mut save_ms = Vec::new();
    let mut kept = 0;
    for run in 0..3 {
        let user = CurrentUser {
            user_id: Uuid::new_v4(),
            name: "Pat Coordinator".into(),
            email: "pat.coordinator@example.nhs.net".into(),
            person_id: Uuid::from_u128(1),
            site_admin: false,
            signed_in_through_organisation: false,
        };
        let start = performance.now();
        let mut replica = Replica::new(Uuid::new_v4());
        for page in &pages {
            replica.apply_pull(serde_json::from_str::<PullResponse>(page).unwrap());
        }
        apply_ms.push(performance.now() - start);
        assert_eq!(replica.confirmed().len(), total);
        let vault = Vault::open_signed_in(&user, &"ab".repeat(32), None)
            .await
            .unwrap();
        let owner = Owner::new();
        let sync = owner.with(|| SyncClient::open(user.clone(), Some(vault), None));
        sync.stop();
        sync.replica().set(replica);
        let start = performance.now();
        sync.save_now().await;
        save_ms.push(performance.now() - start);
        if run == 0 {
            let reopened = Vault::open_signed_in(&user, &"ab".repeat(32), None)
                .await
                .unwrap();
            let loaded = reopened.load().await.unwrap().unwrap();
            kept = loaded.replica.confirmed().len();
            reopened.close();
        }
        sync.wipe().await;
        let _ = vault::destroy(user.user_id).await;
    }
    drop(started);
    assert_eq!(
        kept, total,
        "every record of the next meeting is kept offline"
    );
    apply_ms.sort_by(|a, b| a.total_cmp(b));
    save_ms.sort_by(|a, b| a.total_cmp(b));
    web_sys::console::log_1(
        &format!(
            "BENCH initial-sync-browser: {total} records in {} pages: parse and apply median {:.0} ms {apply_ms:.0?}; encrypt and write the offline copy ({kept} records, AES-GCM, IndexedDB) median {:.0} ms {save_ms:.0?}",
            pages.len(),
            apply_ms[1],
            save_ms[1]
        )
        .into(),
    );
}

/// Every place in the app has one path, and that path leads back to it; a path whose id is not
/// an id, or that no page answers, leads nowhere (the page says "Page not found").
#[wasm_bindgen_test]
fn every_page_has_one_path_that_leads_back_to_it() {
    use mdt::web::routes::Page;
    let id = Uuid::new_v4();
    let pages = [
        Page::Teams,
        Page::NewTeam,
        Page::Team(id),
        Page::TeamPeople(id),
        Page::TeamAttendance(id),
        Page::TeamDetails(id),
        Page::TeamActions(id),
        Page::TeamCalendar(id),
        Page::TeamMeasures(id),
        Page::FindTime(id),
        Page::Meeting(id),
        Page::BriefPack(id),
        Page::OutcomeSummaries(id),
        Page::Brief(id),
        Page::Patient(id),
        Page::MyActions,
        Page::MyAvailability,
        Page::Availability(id),
        Page::People,
        Page::Accounts,
        Page::Conflicts,
        Page::Search,
        Page::EmailSettings,
        Page::Sessions,
    ];
    // The list above names every place: a new one fails to compile here until it is added.
    for page in pages {
        match page {
            Page::Teams
            | Page::NewTeam
            | Page::Team(_)
            | Page::TeamPeople(_)
            | Page::TeamAttendance(_)
            | Page::TeamDetails(_)
            | Page::TeamActions(_)
            | Page::TeamCalendar(_)
            | Page::TeamMeasures(_)
            | Page::FindTime(_)
            | Page::Meeting(_)
            | Page::BriefPack(_)
            | Page::OutcomeSummaries(_)
            | Page::Brief(_)
            | Page::Patient(_)
            | Page::MyActions
            | Page::MyAvailability
            | Page::Availability(_)
            | Page::People
            | Page::Accounts
            | Page::Conflicts
            | Page::Search
            | Page::EmailSettings
            | Page::Sessions => {}
        }
    }
    let mut paths = std::collections::HashSet::new();
    for page in pages {
        let href = page.href();
        assert!(href.starts_with('/'), "{href}");
        assert_eq!(Page::from_path(&href), Some(page), "{href}");
        assert_eq!(Page::from_path(&format!("{href}/")), Some(page), "{href}/");
        assert!(paths.insert(href.clone()), "two places share {href}");
    }
    assert_eq!(paths.len(), 24);
    for nowhere in [
        "/teams/not-an-id",
        "/meetings/12345",
        "/teams",
        "/items/{id}",
        "/unknown",
        "/patients/",
        "/availability/someone/else",
    ] {
        assert_eq!(Page::from_path(nowhere), None, "{nowhere}");
    }
    assert_eq!(
        Page::from_path(&format!("/items/{id}")),
        None,
        "an item has no page of its own, only its brief"
    );
}

/// Window listeners go with their owner: three rounds of adding and cleaning up (as a lock and
/// unlock, or a sign-out and sign-in, does with the signed-in view) leave none behind, and a
/// removed listener hears nothing.
#[wasm_bindgen_test]
fn window_listeners_go_with_their_owner() {
    use mdt::web::client::listeners::{active_window_listeners, on_window};
    use std::cell::Cell;
    use std::rc::Rc;
    let before = active_window_listeners();
    let heard = Rc::new(Cell::new(0u32));
    let window = web_sys::window().unwrap();
    let fire = || {
        let event = web_sys::Event::new("mdt-test-listener").unwrap();
        window.dispatch_event(&event).unwrap();
    };
    for round in 1..=3 {
        let owner = Owner::new();
        owner.with(|| {
            for capture in [false, true] {
                let heard = heard.clone();
                on_window("mdt-test-listener", capture, move || {
                    heard.set(heard.get() + 1)
                });
            }
        });
        assert_eq!(active_window_listeners(), before + 2, "round {round}");
        fire();
        assert_eq!(
            heard.get(),
            2 * round,
            "both heard the event in round {round}"
        );
        owner.cleanup();
        assert_eq!(
            active_window_listeners(),
            before,
            "round {round} left listeners behind"
        );
        fire();
        assert_eq!(heard.get(), 2 * round, "a removed listener heard an event");
    }
}

/// Starting and stopping sync inside an owner that is then cleaned up (as the signed-in view
/// is on every lock) leaves no window listener behind.
#[wasm_bindgen_test]
async fn a_sync_client_started_and_stopped_leaves_no_listener_behind() {
    use mdt::web::client::listeners::active_window_listeners;
    // Sync runs its loop as a task: mounting anything sets up the task executor.
    let _executor = leptos::mount::mount_to(container(), || ());
    let before = active_window_listeners();
    for _ in 0..3 {
        let owner = Owner::new();
        let sync = owner.with(|| {
            let sync = SyncClient::new(Uuid::new_v4());
            sync.start();
            sync
        });
        assert_eq!(active_window_listeners(), before + 1);
        sync.stop();
        owner.cleanup();
        assert_eq!(active_window_listeners(), before);
    }
}

/// The view models pages read through, worked out from one replica: the teams list (sorted,
/// next planned meeting, declined actions), a team's meetings and attendance by role over the
/// meetings held, the slot finder's people, a patient's timeline and who coordinates them.
#[wasm_bindgen_test]
fn the_view_models_work_out_what_the_pages_show() {
    use mdt::core::action::{Action, ActionStatus};
    use mdt::core::agenda::{AgendaItem, ItemStatus, Outcome};
    use mdt::core::attendance::{Attendance, AttendanceStatus};
    use mdt::core::schedule::PersonAvailability;
    use mdt::core::sync::Replica;
    use mdt::web::views::{conflicts, patient, team};

    let (me, next_meeting, mut records) = agenda_records(2);
    let team_id = Uuid::from_u128(2);
    let nurse = Uuid::from_u128(6);
    let (held, cancelled, other_team) = (
        Uuid::from_u128(30),
        Uuid::from_u128(31),
        Uuid::from_u128(32),
    );
    let next_starts = Meeting::from_fields(
        &records
            .iter()
            .find(|r| r.id == next_meeting)
            .unwrap()
            .fields,
    )
    .unwrap()
    .starts_at;
    let team =
        Team::from_fields(&records.iter().find(|r| r.id == team_id).unwrap().fields).unwrap();
    let held_at = Utc::now() - Duration::days(7);
    let meeting = |starts_at: chrono::DateTime<Utc>, status| Meeting {
        team_id,
        starts_at,
        ends_at: starts_at + Duration::minutes(90),
        place: "Room 1".into(),
        video_link: None,
        status,
    };
    let patient0 = Uuid::from_u128(10_000);
    let earlier_item = AgendaItem::from_fields(
        &records
            .iter()
            .find(|r| r.id == Uuid::from_u128(20_000))
            .unwrap()
            .fields,
    )
    .unwrap();
    let action = |owner, status, patient| Action {
        team_id,
        description: "Refer to the falls service".into(),
        owner_id: owner,
        due: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        patient_id: patient,
        meeting_id: None,
        item_id: None,
        status,
        completion_note: String::new(),
        reason: if status == ActionStatus::Declined {
            "On leave".into()
        } else {
            String::new()
        },
    };
    records.extend([
        record(
            nurse,
            &Person {
                name: "Grace Placeholder".into(),
                role: Role::DistrictNurse,
                ..gp()
            },
        ),
        record(
            team_id,
            &Team {
                member_ids: vec![nurse],
                ..team.clone()
            },
        ),
        record(
            other_team,
            &Team {
                name: "Apple Tree MDT".into(),
                member_ids: vec![],
                ..team.clone()
            },
        ),
        record(held, &meeting(held_at, MeetingStatus::Planned)),
        record(
            cancelled,
            &meeting(Utc::now() + Duration::days(2), MeetingStatus::Cancelled),
        ),
        record(
            Uuid::from_u128(40),
            &AgendaItem {
                meeting_id: held,
                status: ItemStatus::Discussed,
                outcome: Some(Outcome::Decision {
                    text: "Ask for a care review".into(),
                }),
                ..earlier_item
            },
        ),
        record(
            Attendance::id_for(held, me),
            &Attendance {
                team_id,
                meeting_id: held,
                person_id: me,
                status: AttendanceStatus::Attended,
                deputy_id: None,
            },
        ),
        record(
            Uuid::from_u128(50),
            &action(nurse, ActionStatus::Declined, None),
        ),
        record(
            Uuid::from_u128(51),
            &action(me, ActionStatus::Accepted, Some(patient0)),
        ),
        record(
            PersonAvailability::id_for(nurse),
            &PersonAvailability {
                person_id: nurse,
                availability: Default::default(),
            },
        ),
    ]);
    let mut replica = Replica::new(Uuid::new_v4());
    replica.apply_pull(PullResponse {
        records,
        cursor: 1,
        more: false,
    });
    let now = Utc::now();

    let teams = team::TeamSummary::list(&replica, now);
    let names: Vec<&str> = teams.iter().map(|t| t.team.name.as_str()).collect();
    assert_eq!(
        names,
        ["Apple Tree MDT", "Synthetic Valley MDT"],
        "sorted by name"
    );
    let valley = &teams[1];
    assert_eq!(
        valley.next_meeting,
        Some(next_starts),
        "the next planned meeting, not the past one or the cancelled one"
    );
    assert_eq!(valley.declined, 1);
    assert_eq!((teams[0].next_meeting, teams[0].declined), (None, 0));

    let meetings: Vec<Uuid> = team::meetings_of(&replica, team_id)
        .iter()
        .map(|(v, _)| v.id)
        .collect();
    assert_eq!(meetings, [held, cancelled, next_meeting], "earliest first");
    assert!(team::series_of(&replica, team_id).is_empty());

    // One meeting held; the GP (coordinator) attended, the district nurse did not say.
    let summary = team::attendance_by_role_of(&replica, team_id, now);
    assert_eq!(summary.meetings_counted, 1);
    assert!(summary.unrecorded.is_empty(), "{:?}", summary.unrecorded);
    let lines = summary.lines;
    let gp_line = lines.iter().find(|l| l.role == Role::Gp.label()).unwrap();
    assert_eq!(
        (gp_line.attended, gp_line.expected, gp_line.percent),
        (1, 1, 100)
    );
    assert!(gp_line.meets_target);
    let nurse_line = lines
        .iter()
        .find(|l| l.role == Role::DistrictNurse.label())
        .unwrap();
    assert_eq!((nurse_line.attended, nurse_line.percent), (0, 0));
    assert!(!nurse_line.meets_target);
    assert_eq!(
        team::attendance_by_role_of(&replica, Uuid::from_u128(99), now),
        team::AttendanceSummary::default()
    );

    // Find a time keeps clear of the planned meeting, not of the cancelled or past ones.
    let today = mdt::core::uk_time::uk_today(now);
    let booked = team::booked_times(
        &replica,
        team_id,
        today,
        today + chrono::Duration::days(400),
    );
    let next_uk = mdt::core::uk_time::to_uk(next_starts);
    assert_eq!(
        booked
            .iter()
            .map(|b| (b.date, b.starts))
            .collect::<Vec<_>>(),
        [(next_uk.date(), next_uk.time())]
    );

    let people = team::candidates(&replica, &replica.entity::<Team>(team_id).unwrap(), true);
    assert_eq!(people.len(), 2);
    assert!(people[0].must_attend && people[0].id == me);
    assert!(!people[1].must_attend && people[1].role == Role::DistrictNurse);
    assert!(team::team_writable(&replica, team_id, nurse));
    assert!(!team::team_writable(&replica, team_id, Uuid::from_u128(99)));
    assert!(
        team::team_writable(&replica, Uuid::from_u128(98), nurse),
        "a team being made"
    );

    // The patient's timeline: the coming item, the held one with its decision, the action.
    let timeline = patient::timeline(&replica, patient0, now);
    assert_eq!(timeline.len(), 3, "{timeline:?}");
    assert!(
        timeline.windows(2).all(|w| w[0].at >= w[1].at),
        "newest first"
    );
    let decided = timeline.iter().find(|l| l.meeting == Some(held)).unwrap();
    assert!(
        decided
            .text
            .contains("Outcome — Decision: Ask for a care review"),
        "{}",
        decided.text
    );
    assert!(timeline.iter().any(|l| l.meeting.is_none()
        && l.text
            .starts_with("Action due: Refer to the falls service — Dr Ada Synthetic (accepted)")));
    assert!(patient::coordinates(&replica, patient0, me));
    assert!(!patient::coordinates(&replica, patient0, nurse));

    assert!(conflicts::conflicted(&replica).is_empty());
}

/// An agenda line is written as markup in one piece: whatever a person typed (a name, a reason,
/// an outcome) stays text and never becomes an element or an attribute, and the line's buttons
/// carry the actions the list handles.
#[wasm_bindgen_test]
fn agenda_lines_written_as_markup_keep_typed_text_as_text() {
    use mdt::web::components::markup::Markup;
    use mdt::web::pages::meeting::agenda_line::{actions_markup, summary_markup, LineAction};
    use mdt::web::views::agenda::AgendaView;

    let mut plain = Markup::new();
    plain
        .open(
            "p",
            &[
                ("title", Some("a \"quoted\" <b> & 'x'")),
                ("hidden", None),
                ("disabled", Some("")),
            ],
        )
        .text("1 < 2 & 3 > 2")
        .close("p");
    assert_eq!(
        plain.finish(),
        "<p title=\"a &quot;quoted&quot; &lt;b&gt; &amp; &#39;x&#39;\" disabled>1 &lt; 2 &amp; 3 &gt; 2</p>"
    );

    let (me, meeting_id, records) = agenda_records(2);
    let mut replica = mdt::core::sync::Replica::new(Uuid::new_v4());
    replica.apply_pull(PullResponse {
        records,
        cursor: 1,
        more: false,
    });
    let view = AgendaView::load(&replica, meeting_id).unwrap();
    let mut row = view.rows(true).remove(0);
    let hostile = "<img src=x onerror=\"alert(1)\"> Ada's \"care\" & <script>alert(2)</script>";
    row.heading = hostile.into();
    row.details = vec![("Reason", hostile.into())];
    row.outcome = Some(("Decision", hostile.into()));
    row.item_actions = vec![hostile.into()];
    row.apologies = vec![hostile.into()];

    let document = web_sys::window().unwrap().document().unwrap();
    let line = document.create_element("div").unwrap();
    line.set_inner_html(&(summary_markup(&row) + &actions_markup(&row, true)));
    assert_eq!(line.query_selector_all("img, script").unwrap().length(), 0);
    let heading = line.query_selector("h3 a").unwrap().unwrap();
    assert_eq!(heading.text_content().unwrap(), hostile);
    assert_eq!(
        heading.get_attribute("href").unwrap(),
        mdt::web::routes::Page::Patient(row.patient_id.unwrap()).href()
    );
    assert_eq!(
        line.query_selector("dd")
            .unwrap()
            .unwrap()
            .text_content()
            .unwrap(),
        hostile
    );
    assert!(line
        .query_selector("[data-testid=outcome]")
        .unwrap()
        .unwrap()
        .text_content()
        .unwrap()
        .ends_with(hostile));
    let record = line
        .query_selector("button[data-action=record-outcome]")
        .unwrap()
        .unwrap();
    assert_eq!(
        record.get_attribute("aria-label").unwrap(),
        format!("Record the outcome for {hostile}")
    );
    // The first line cannot move up; every button names an action the list knows.
    let up = line
        .query_selector("button[data-action=move-up]")
        .unwrap()
        .unwrap();
    assert!(up.has_attribute("disabled"));
    let buttons = line.query_selector_all("button").unwrap();
    assert_eq!(
        buttons.length(),
        6,
        "move up, move down, record, chase the brief (the coordinator's, no brief yet), restrict, remove"
    );
    assert!(line
        .query_selector("button[data-action=chase-brief]")
        .unwrap()
        .is_some());
    assert!(!view.rows(false)[0].chase, "only the coordinator chases");
    for i in 0..buttons.length() {
        let action = buttons
            .item(i)
            .unwrap()
            .unchecked_into::<web_sys::Element>()
            .get_attribute("data-action")
            .unwrap();
        assert!(LineAction::parse(&action).is_some(), "{action}");
    }
    // An observer's line has the brief link and nothing to press.
    line.set_inner_html(&actions_markup(&row, false));
    assert_eq!(line.query_selector_all("button").unwrap().length(), 0);
    let _ = me;
}

/// The team's action rows are written as markup in one piece: typed text stays text, the
/// patient is a link to their page, and an overdue date is marked.
#[wasm_bindgen_test]
fn action_rows_written_as_markup_keep_typed_text_as_text() {
    use mdt::core::action::{Action, ActionRow, ActionStatus};
    use mdt::web::pages::team_actions::row_markup;
    let hostile = "<img src=x onerror=\"alert(1)\"> & 'quoted' <b>bold</b>";
    let patient = Uuid::from_u128(77);
    let row = ActionRow::new(
        Uuid::from_u128(78),
        Action {
            team_id: Uuid::from_u128(2),
            description: hostile.into(),
            owner_id: Uuid::from_u128(1),
            due: chrono::NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
            patient_id: Some(patient),
            meeting_id: None,
            item_id: None,
            status: ActionStatus::Accepted,
            completion_note: String::new(),
            reason: String::new(),
        },
        hostile.into(),
        hostile.into(),
        hostile.into(),
    );
    let document = web_sys::window().unwrap().document().unwrap();
    let table = document.create_element("tbody").unwrap();
    table.set_inner_html(&row_markup(&row, Utc::now(), false));
    assert_eq!(table.query_selector_all("img, b").unwrap().length(), 0);
    let cells = table.query_selector_all("td").unwrap();
    assert_eq!(cells.length(), 5);
    let text = |i| cells.item(i).unwrap().text_content().unwrap();
    assert_eq!(text(0), hostile);
    assert_eq!(
        text(1),
        format!("{hostile}{hostile}"),
        "owner, then organisation"
    );
    assert_eq!(text(2), hostile);
    assert_eq!(text(3), "5 Jan 2026 (overdue)");
    assert_eq!(text(4), "Accepted");
    let link = table.query_selector("td a").unwrap().unwrap();
    assert_eq!(
        link.get_attribute("href").unwrap(),
        mdt::web::routes::Page::Patient(patient).href()
    );
    assert!(cells
        .item(3)
        .unwrap()
        .unchecked_into::<web_sys::Element>()
        .class_list()
        .contains("mdt-overdue"));
    assert_eq!(
        table
            .query_selector("tr")
            .unwrap()
            .unwrap()
            .get_attribute("data-testid")
            .as_deref(),
        Some("action-row")
    );
}

/// The header's sync sentence, for every state the sync client can be in: one plain sentence
/// that never contradicts itself (issue 15, problem 8: "Offline … trying again in 1 s",
/// "Syncing… · all changes saved · not synced yet").
#[wasm_bindgen_test]
fn the_sync_sentence_is_plain_and_true_in_every_state() {
    use mdt::web::views::sync_status::{sentence, SyncFacts};
    let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 30, 10, 30, 0).unwrap();
    let synced = Some(now - Duration::minutes(25)); // 10:05 in London (GMT)
    let oldest = Some(now - Duration::minutes(5));
    let case = |online: bool, syncing: bool, unsent: usize, last_synced, retry: bool| {
        sentence(
            &SyncFacts {
                online,
                syncing,
                unsent,
                oldest_unsent: (unsent > 0).then_some(oldest).flatten(),
                last_synced,
                retry_at: retry.then_some(now + Duration::seconds(20)),
            },
            now,
        )
    };
    let cases = [
        (
            case(true, true, 0, None, false),
            "Getting your teams' work for the first time…",
        ),
        (
            case(false, true, 0, None, false),
            "Getting your teams' work for the first time…",
        ),
        (
            case(true, true, 0, synced, false),
            "Online · all changes saved · last synced 10:05",
        ),
        (
            case(true, true, 1, synced, false),
            "Sending 1 unsent change (oldest 5 min ago)…",
        ),
        (
            case(false, true, 3, synced, true),
            "Sending 3 unsent changes (oldest 5 min ago)…",
        ),
        (
            case(true, false, 0, synced, false),
            "Online · all changes saved · last synced 10:05",
        ),
        (case(true, false, 0, None, false), "Connecting to the server…"),
        (
            case(true, false, 2, synced, true),
            "Online · 2 unsent changes (oldest 5 min ago), kept on this device: the server could not take them, trying again in 20 s · last synced 10:05",
        ),
        (
            case(true, false, 1, None, false),
            "Online · 1 unsent change (oldest 5 min ago), being sent",
        ),
        (
            case(false, false, 0, synced, true),
            "Offline · all changes saved · last synced 10:05",
        ),
        (
            case(false, false, 0, None, true),
            "Offline · not connected yet; the app keeps trying",
        ),
        (
            case(false, false, 3, synced, true),
            "Offline · 3 unsent changes (oldest 5 min ago), kept on this device and sent when the connection is back · last synced 10:05",
        ),
    ];
    for (said, expected) in &cases {
        assert_eq!(said, expected);
    }
    // A check for news with nothing to send leaves the line as it was (it ran every 15 s and
    // made the page below jump on a phone).
    for online in [true, false] {
        for retry in [true, false] {
            assert_eq!(
                case(online, true, 0, synced, retry),
                case(online, false, 0, synced, retry)
            );
        }
    }
    // Whatever the state, no sentence says two things that cannot both be true.
    for online in [true, false] {
        for syncing in [true, false] {
            for unsent in [0, 1, 7] {
                for last in [None, synced] {
                    for retry in [true, false] {
                        let said = case(online, syncing, unsent, last, retry);
                        assert!(
                            !(said.contains("Offline") && said.contains("trying again")),
                            "{said}"
                        );
                        assert!(
                            !(said.contains("all changes saved") && unsent > 0),
                            "{said}"
                        );
                        assert!(!(said.contains("Sending") && unsent == 0), "{said}");
                        assert!(!said.contains("not synced yet"), "{said}");
                        // "Online"/"Offline" only ever as the connection is.
                        assert!(online || !said.starts_with("Online"), "{said}");
                        assert!(!online || !said.starts_with("Offline"), "{said}");
                    }
                }
            }
        }
    }
}

/// The view model of a meeting of `items` patient items (see [`agenda_records`]), as pulled,
/// with the person who coordinates and leads it all.
fn agenda_view_of(items: usize) -> (Uuid, mdt::web::views::agenda::AgendaView) {
    let (me, meeting_id, records) = agenda_records(items);
    let mut replica = mdt::core::sync::Replica::new(Uuid::new_v4());
    replica.apply_pull(PullResponse {
        records,
        cursor: 1,
        more: false,
    });
    let view = mdt::web::views::agenda::AgendaView::load(&replica, meeting_id).unwrap();
    (me, view)
}

/// "Your part" on the meeting page comes from the view model: the person's answer, the briefs
/// they write (with how far each has got), and the items they asked for or lead; someone with
/// no part in the agenda has none of it.
#[wasm_bindgen_test]
fn the_agenda_view_gives_each_person_their_own_part() {
    use mdt::core::attendance::AttendanceStatus;
    let (me, view) = agenda_view_of(2);
    let mine = view.my_part(me);
    assert_eq!(mine.answer, AttendanceStatus::Invited);
    assert_eq!(mine.to_write.len(), 2, "{mine:?}");
    assert!(
        mine.to_write[0].1.starts_with("Patient 0 Synthetic")
            && mine.to_write[0].1.ends_with(": not started"),
        "{mine:?}"
    );
    assert!(mine.to_read.is_empty(), "nothing ready to read: {mine:?}");
    assert_eq!(mine.mine.len(), 2, "{mine:?}");
    let stranger = view.my_part(Uuid::from_u128(999));
    assert!(
        stranger.to_write.is_empty() && stranger.to_read.is_empty() && stranger.mine.is_empty()
    );
}

/// The meeting page's "cannot be concluded yet" list comes from the view model: a line per item
/// without an outcome, named as the agenda names it, and none once each has one.
#[wasm_bindgen_test]
fn the_agenda_view_says_why_a_meeting_cannot_be_concluded() {
    use mdt::web::views::agenda::AgendaView;
    let (_me, meeting_id, records) = agenda_records(2);
    let mut replica = mdt::core::sync::Replica::new(Uuid::new_v4());
    replica.apply_pull(PullResponse {
        records,
        cursor: 1,
        more: false,
    });
    let view = AgendaView::load(&replica, meeting_id).unwrap();
    let lines = view.conclusion_blockers();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("Patient 0 Synthetic (NHS 999 000 0018, born 1 Jan 1940) "),
        "{lines:?}"
    );
    assert!(lines.iter().all(|l| l.contains("no outcome")), "{lines:?}");
    assert_eq!(view.heading_of(Uuid::new_v4()), "");

    // Both items given an outcome (no action needed): nothing stands in the way.
    for n in [20_000u128, 20_001] {
        let id = Uuid::from_u128(n);
        let mut rec = replica.confirmed()[&id].clone();
        rec.version += 1;
        rec.fields
            .insert("status".into(), serde_json::json!("discussed"));
        rec.fields.insert(
            "outcome".into(),
            serde_json::json!({"kind": "no_action", "reason": "Stable"}),
        );
        let cursor = replica.cursor + 1;
        replica.apply_pull(PullResponse {
            records: vec![rec],
            cursor,
            more: false,
        });
    }
    let view = AgendaView::load(&replica, meeting_id).unwrap();
    assert_eq!(view.conclusion_blockers(), Vec::<String>::new());
}

/// The measures page's charts from a report: labels of months, quarters and part-months, a
/// chart and a table per measure with the same figures, an empty period drawn as no bar, and
/// the chart rendered as an image summarised in words with its bars in proportion.
#[wasm_bindgen_test]
async fn measures_charts_carry_the_figures_of_their_tables() {
    use chrono::NaiveDate;
    use mdt::core::measures::{MeasuresLine, RoleLine, TeamMeasures};
    use mdt::web::components::bar_chart::BarChart;
    use mdt::web::views::measures::{charts, period_label};

    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let line = |from, to, items: usize, concluded: usize| MeasuresLine {
        from,
        to,
        meetings_held: usize::from(items > 0),
        patient_items: items,
        concluded,
        not_concluded: items - concluded,
        median_days_to_discussion: (concluded > 0).then_some(12),
        p90_days_to_discussion: (concluded > 0).then_some(30),
        deferrals: 1,
        actions_due: 4,
        done_by_due: 3,
        attendance: vec![
            RoleLine {
                role: Role::Gp,
                attended: 2,
                expected: 2,
            },
            RoleLine {
                role: Role::SocialWorker,
                attended: 1,
                expected: 2,
            },
        ],
        briefs_ready_by_cutoff: concluded,
    };
    let jan = line(d(2026, 1, 1), d(2026, 1, 31), 4, 3);
    let feb = line(d(2026, 2, 1), d(2026, 2, 28), 0, 0);
    assert_eq!(period_label(&jan), "Jan 2026");
    assert_eq!(
        period_label(&line(d(2026, 1, 1), d(2026, 3, 31), 0, 0)),
        "Jan–Mar 2026"
    );
    assert_eq!(
        period_label(&line(d(2026, 1, 14), d(2026, 1, 31), 0, 0)),
        "14–31 Jan 2026"
    );
    assert_eq!(
        period_label(&line(d(2026, 3, 2), d(2026, 3, 2), 0, 0)),
        "2 Mar 2026"
    );
    assert_eq!(
        period_label(&line(d(2025, 11, 1), d(2026, 1, 31), 0, 0)),
        "Nov 2025–Jan 2026"
    );
    let report = TeamMeasures {
        lines: vec![jan.clone(), feb],
        whole: line(d(2026, 1, 1), d(2026, 2, 28), 4, 3),
        waiting: 2,
        waiting_since: Some(d(2026, 1, 20)),
        unallocated_actions: 1,
    };
    let all = charts(&report);
    assert_eq!(
        all.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![
            "concluded",
            "waiting",
            "done-by-due",
            "attendance",
            "briefs"
        ]
    );
    let concluded = &all[0];
    assert_eq!(
        concluded.rows[0].values,
        vec![Some(7500)],
        "hundredths of a percent"
    );
    assert_eq!(
        concluded.rows[1].values,
        vec![None],
        "February had no items"
    );
    assert_eq!(concluded.table[0], vec!["Jan 2026", "4", "3", "75%"]);
    assert_eq!(concluded.table[1], vec!["Feb 2026", "0", "0", "–"]);
    assert_eq!(all[1].table[0], vec!["Jan 2026", "3", "12", "30", "0.3"]);
    let attendance = &all[3];
    assert_eq!(
        attendance.table,
        vec![
            vec!["GP".to_owned(), "2".into(), "2".into(), "100%".into()],
            vec![
                "Social worker".to_owned(),
                "1".into(),
                "2".into(),
                "50%".into()
            ],
        ]
    );
    assert!(attendance.target.is_some());

    // Drawn: an image named by its sentence, a bar per row, January's three-quarters as long as
    // a full bar would be.
    let div = container();
    let chart = concluded.clone();
    let _handle = mount_to(
        div.clone(),
        move || view! { <BarChart chart=chart.clone()/> },
    );
    settle().await;
    let svg = div.query_selector("svg").unwrap().unwrap();
    assert_eq!(svg.get_attribute("role").as_deref(), Some("img"));
    assert_eq!(
        svg.get_attribute("aria-label"),
        Some(report.concluded_summary())
    );
    let bars = div.query_selector_all("rect.mdt-chart__bar").unwrap();
    assert_eq!(bars.length(), 2);
    let width = |i| {
        bars.item(i)
            .unwrap()
            .unchecked_into::<web_sys::Element>()
            .get_attribute("width")
            .unwrap()
    };
    assert_eq!(width(0), "34.50%", "75% of a 46% span");
    assert_eq!(width(1), "0.00%");
    assert!(div.text_content().unwrap().contains("none"));
}
