//! One team, over several pages reached from its own navigation (`components::team_nav`): its
//! meetings (the first), people, attendance and details; and the form that creates a team.

pub mod meetings;
pub mod people;

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use uuid::Uuid;

use crate::core::api::{Colleague, CurrentUser};
use crate::core::entities::{Person, Role, RoleNeed, Team, MAX_ROLE_COUNT};
use crate::core::ValidationError;
use crate::web::client::api;
use crate::web::client::sync::SyncClient;
use crate::web::components::team_nav::{TeamHeader, TeamOpens};
use crate::web::components::{
    field_error, may_change_team, Checkbox, ConflictNotice, ErrorSummary, TextField,
};
use crate::web::pages::not_found::NotFound;
use crate::web::pages::team::meetings::{AttendanceByRole, TeamMeetings};
use crate::web::pages::team::people::TeamPeople;
use crate::web::routes::{use_id, Page};

/// `/teams/<id>`: the team's meetings, and a prompt to record who came to those held.
#[component]
pub fn TeamPage() -> impl IntoView {
    with_team(|id| {
        view! {
            <TeamHeader team_id=id current=Page::Team(id)/>
            <TeamMeetings team_id=id/>
            <AttendanceByRole team_id=id figures=false/>
        }
        .into_any()
    })
}

/// `/teams/<id>/people`: who is in the team and what Find a time knows of each.
#[component]
pub fn TeamPeoplePage() -> impl IntoView {
    with_team(|id| {
        view! {
            <TeamHeader team_id=id current=Page::TeamPeople(id)/>
            <TeamPeople team_id=id/>
        }
        .into_any()
    })
}

/// `/teams/<id>/attendance`: attendance by role against the target.
#[component]
pub fn TeamAttendancePage() -> impl IntoView {
    with_team(|id| {
        view! {
            <TeamHeader team_id=id current=Page::TeamAttendance(id)/>
            <AttendanceByRole team_id=id figures=true/>
        }
        .into_any()
    })
}

/// `/teams/<id>/details`: the team's details as a form (the coordinator's to change).
#[component]
pub fn TeamDetailsPage() -> impl IntoView {
    with_team(|id| {
        view! {
            <TeamHeader team_id=id current=Page::TeamDetails(id)/>
            <h2 id="team-details">"Team details"</h2>
            <TeamForm id=id is_new=false/>
        }
        .into_any()
    })
}

/// The page for the team in the path, or "Page not found" when the path's id is not an id.
fn with_team(page: fn(Uuid) -> AnyView) -> impl IntoView {
    let id = use_id();
    move || match id.get() {
        Some(id) => view! { <TeamOpens team_id=id>{move || page(id)}</TeamOpens> }.into_any(),
        None => view! { <NotFound/> }.into_any(),
    }
}

/// `/teams/new`: creates a team.
#[component]
pub fn NewTeamPage() -> impl IntoView {
    view! {
        <a class="nhsuk-back-link" href=Page::Teams.href()>"Back to your teams"</a>
        <h1>"Create a team"</h1>
        <TeamForm id=Uuid::new_v4() is_new=true/>
    }
}

/// The team's details as a form. Edits stay on screen until saved; nothing typed is lost on
/// an error.
#[component]
fn TeamForm(id: Uuid, is_new: bool) -> impl IntoView {
    let sync = expect_context::<SyncClient>();
    let me = expect_context::<CurrentUser>();
    let navigate = use_navigate();
    let may_write = may_change_team(id);
    // The team's details are its coordinator's (core::authorize); a new team is the creator's.
    let may_change = Signal::derive(move || is_new || sync.may_change(me.person_id, id, "name"));
    let archived = Signal::derive(move || sync.entity::<Team>(id).is_some_and(|t| t.archived));
    // An archived team takes only its coordinator restoring it (core::authorize::ARCHIVED).
    let may_archive = Signal::derive(move || sync.may_change(me.person_id, id, "archived"));
    let name = RwSignal::new(String::new());
    let coordinator = RwSignal::new(me.person_id);
    let members = RwSignal::new(BTreeSet::<Uuid>::new());
    let observers = RwSignal::new(BTreeSet::<Uuid>::new());
    let roles = RwSignal::new(BTreeMap::<Role, u8>::new());
    let minutes = RwSignal::new("90".to_string());
    let agenda_cutoff = RwSignal::new("48".to_string());
    let brief_cutoff = RwSignal::new("24".to_string());
    let place = RwSignal::new(String::new());
    let video = RwSignal::new(String::new());
    let observers_see_measures = RwSignal::new(false);
    let email_without_accounts = RwSignal::new(false);
    let error = RwSignal::new(None::<ValidationError>);
    let set_archived = move |archive: bool| {
        let question = if archive {
            "Archive this team? It leaves everyone's list of teams; its meetings, patients and history are kept, and you can restore it from the list of teams."
        } else {
            "Restore this team to everyone's list of teams?"
        };
        let confirmed = web_sys::window()
            .and_then(|w| w.confirm_with_message(question).ok())
            .unwrap_or(false);
        if !confirmed {
            return;
        }
        let current = untrack(|| sync.versioned::<Team>(id));
        if let Some((version, before)) = current {
            let after = Team {
                archived: archive,
                ..before.clone()
            };
            match sync.save_edit(id, version, Some(&before), &after) {
                Ok(()) => error.set(None),
                Err(e) => error.set(Some(e)),
            }
        }
    };

    let saved = RwSignal::new(false);
    let loaded = RwSignal::new(is_new);
    // What the form was filled from (server version and content): a save sends only what the
    // person changed since, so edits made elsewhere meanwhile are not overwritten.
    let shown = StoredValue::new((0u64, None::<Team>));
    // True once the person has typed or ticked something not yet saved.
    let dirty = RwSignal::new(false);

    // Fill the form when the team reaches this device, and follow changes made elsewhere for
    // as long as the person has not started editing.
    Effect::new(move || {
        let latest = sync.versioned::<Team>(id);
        let Some((version, team)) = latest else {
            return;
        };
        if dirty.get_untracked()
            || shown.with_value(|(v, t)| *v == version && t.as_ref() == Some(&team))
        {
            return;
        }
        shown.set_value((version, Some(team.clone())));
        name.set(team.name);
        coordinator.set(team.coordinator_id);
        members.set(team.member_ids.into_iter().collect());
        observers.set(team.observer_ids.into_iter().collect());
        roles.set(
            team.required_roles
                .into_iter()
                .map(|need| (need.role, need.count))
                .collect(),
        );
        minutes.set(team.default_minutes.to_string());
        agenda_cutoff.set(team.agenda_cutoff_hours.to_string());
        brief_cutoff.set(team.brief_cutoff_hours.to_string());
        place.set(team.place);
        video.set(team.video_link.unwrap_or_default());
        observers_see_measures.set(team.observers_see_measures);
        email_without_accounts.set(team.email_people_without_accounts);
        loaded.set(true);
    });

    let people = move || sync.list_by::<Person>(|e| &e.name);
    // Colleagues found by email whose directory entry reaches this device once they are in the team.
    let found = RwSignal::new(Vec::<Colleague>::new());
    let candidates = move || {
        let mut list: Vec<(Uuid, String)> = people()
            .into_iter()
            .map(|(v, p)| (v.id, format!("{} — {}", p.name, p.role.label())))
            .collect();
        for c in found.get() {
            if !list.iter().any(|(id, _)| *id == c.person_id) {
                list.push((c.person_id, c.name.clone()));
            }
        }
        list
    };
    let colleague_email = RwSignal::new(String::new());
    let lookup = Action::new_local(|email: &String| {
        let email = email.clone();
        async move { api::lookup_colleague(&email).await }
    });
    Effect::new(move || {
        if let Some(Ok(colleague)) = lookup.value().get() {
            members.update(|m| {
                m.insert(colleague.person_id);
            });
            dirty.set(true);
            found.update(|f| f.push(colleague));
            colleague_email.set(String::new());
        }
    });

    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let Ok(default_minutes) = minutes.get_untracked().trim().parse::<u32>() else {
            error.set(Some(ValidationError::field(
                "default_minutes",
                "Enter the default meeting length as a number of minutes, like 90",
            )));
            return;
        };
        let hours = |value: RwSignal<String>, field: &'static str| {
            value.get_untracked().trim().parse::<u32>().map_err(|_| {
                ValidationError::field(
                    field,
                    "Enter the cut-off as a whole number of hours, like 48",
                )
            })
        };
        let cutoffs = hours(agenda_cutoff, "agenda_cutoff_hours")
            .and_then(|a| hours(brief_cutoff, "brief_cutoff_hours").map(|b| (a, b)));
        let (agenda_cutoff_hours, brief_cutoff_hours) = match cutoffs {
            Ok(c) => c,
            Err(e) => {
                error.set(Some(e));
                return;
            }
        };
        let team = Team {
            name: name.get_untracked().trim().to_owned(),
            coordinator_id: coordinator.get_untracked(),
            member_ids: members.get_untracked().into_iter().collect(),
            observer_ids: observers
                .get_untracked()
                .into_iter()
                .filter(|o| !members.with_untracked(|m| m.contains(o)))
                .collect(),
            required_roles: roles
                .get_untracked()
                .into_iter()
                .map(|(role, count)| RoleNeed { role, count })
                .collect(),
            default_minutes,
            agenda_cutoff_hours,
            brief_cutoff_hours,
            place: place.get_untracked().trim().to_owned(),
            video_link: Some(video.get_untracked().trim().to_owned()).filter(|v| !v.is_empty()),
            archived: shown.with_value(|(_, b)| b.as_ref().is_some_and(|t| t.archived)),
            observers_see_measures: observers_see_measures.get_untracked(),
            email_people_without_accounts: email_without_accounts.get_untracked(),
        };
        if !team.includes(me.person_id) {
            error.set(Some(ValidationError::field(
                "member_ids",
                "Include yourself as the coordinator or a member, or you will not be able to see the team",
            )));
            return;
        }
        let (base_version, before) = shown.get_value();
        match sync.save_edit(id, base_version, before.as_ref(), &team) {
            Ok(()) => {
                error.set(None);
                saved.set(true);
                dirty.set(false);
                if is_new {
                    navigate(&Page::Team(id).href(), Default::default());
                }
            }
            Err(e) => error.set(Some(e)),
        }
    };

    let err = Signal::derive(move || error.get());
    view! {
        <Show when=move || loaded.get() fallback=|| view! { <p class="nhsuk-body" role="status">"Loading the team…"</p> }>
            <ConflictNotice id=id/>
            <ErrorSummary error=err id_prefix="team"/>
            {move || saved.get().then(|| view! {
                <div class="nhsuk-inset-text" role="status"><p>"Team saved."</p></div>
            })}
            {move || (may_write.get() && !may_change.get()).then(|| view! {
                <p class="nhsuk-body" data-testid="coordinator-only">"Only the team's coordinator changes its details, members and quorum."</p>
            })}
            <form on:submit=save.clone() novalidate
                on:input=move |_| { dirty.set(true); saved.set(false); }
                on:change=move |_| dirty.set(true)>
                <fieldset class="mdt-plain-fieldset" disabled=move || !may_change.get()>
                <TextField id="team-name".into() label="Team name" value=name error=field_error(err, "name")
                    hint="For example, Riverside Neighbourhood MDT"/>
                <div class="nhsuk-form-group">
                    <label class="nhsuk-label" for="team-coordinator_id">"Coordinator"</label>
                    <div class="nhsuk-hint">"Runs the meetings, builds the agenda and chases briefs."</div>
                    <select class="nhsuk-select" id="team-coordinator_id"
                        on:change=move |ev| if let Ok(p) = Uuid::parse_str(&event_target_value(&ev)) { coordinator.set(p) }>
                        {move || candidates().into_iter().map(|(pid, label)| view! {
                            <option value=pid.to_string() selected=move || coordinator.get() == pid>{label}</option>
                        }).collect_view()}
                    </select>
                </div>
                <div class="nhsuk-form-group" class:nhsuk-form-group--error=move || field_error(err, "member_ids").get().is_some()>
                    <fieldset class="nhsuk-fieldset" id="team-member_ids" aria-describedby="team-members-hint">
                        <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">"Members"</legend>
                        <div class="nhsuk-hint" id="team-members-hint">
                            "People from the directory. Add someone who is missing on the "<a href=Page::People.href()>"directory page"</a>"."
                        </div>
                        {move || field_error(err, "member_ids").get().map(|e| view! { <span class="nhsuk-error-message">{e}</span> })}
                        <div class="nhsuk-checkboxes" data-testid="member-checkboxes">
                            {move || candidates().into_iter().map(|(pid, label)| {
                                let input_id = format!("member-{pid}");
                                view! {
                                    <div class="nhsuk-checkboxes__item">
                                        <input class="nhsuk-checkboxes__input" id=input_id.clone() type="checkbox"
                                            prop:checked=move || members.with(|m| m.contains(&pid))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                members.update(|m| { if on { m.insert(pid); } else { m.remove(&pid); } });
                                            }/>
                                        <label class="nhsuk-label nhsuk-checkboxes__label" for=input_id>{label}</label>
                                    </div>
                                }
                            }).collect_view()}
                        </div>
                    </fieldset>
                </div>
                <div class="nhsuk-form-group" class:nhsuk-form-group--error=move || field_error(err, "observer_ids").get().is_some()>
                    <fieldset class="nhsuk-fieldset" id="team-observer_ids" aria-describedby="team-observers-hint">
                        <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">"Observers (read only)"</legend>
                        <div class="nhsuk-hint" id="team-observers-hint">
                            "They can read the team's agendas and briefs but not change anything, for example a student or someone reviewing how the MDT works."
                        </div>
                        {move || field_error(err, "observer_ids").get().map(|e| view! { <span class="nhsuk-error-message">{e}</span> })}
                        <ul class="nhsuk-list" data-testid="observers">
                            {move || {
                                let names: std::collections::HashMap<Uuid, String> = candidates().into_iter().collect();
                                observers.get().into_iter().map(|pid| {
                                    let name = names.get(&pid).cloned().unwrap_or_else(|| "someone not in your directory".into());
                                    view! {
                                        <li>{name.clone()}" "
                                            <button type="button" class="mdt-link-button"
                                                on:click=move |_| { observers.update(|o| { o.remove(&pid); }); dirty.set(true); }>"Remove"<span class="nhsuk-u-visually-hidden">{format!(" {name} from the observers")}</span></button>
                                        </li>
                                    }
                                }).collect_view()
                            }}
                        </ul>
                        <label class="nhsuk-label" for="observer-add">"Add an observer"</label>
                        <select class="nhsuk-select" id="observer-add"
                            on:change=move |ev| {
                                if let Ok(pid) = Uuid::parse_str(&event_target_value(&ev)) {
                                    observers.update(|o| { o.insert(pid); });
                                    members.update(|m| { m.remove(&pid); });
                                }
                            }>
                            <option value="" selected=true>"Choose someone"</option>
                            {move || candidates().into_iter()
                                .filter(|(pid, _)| *pid != coordinator.get() && !members.with(|m| m.contains(pid)) && !observers.with(|o| o.contains(pid)))
                                .map(|(pid, label)| view! { <option value=pid.to_string()>{label}</option> })
                                .collect_view()}
                        </select>
                    </fieldset>
                </div>
                <div class="nhsuk-form-group">
                    <label class="nhsuk-label" for="colleague-email">"Add a colleague who already uses the app"</label>
                    <div class="nhsuk-hint" id="colleague-email-hint">"Their sign-in email address, for example a social worker from the council."</div>
                    {move || match lookup.value().get() {
                        Some(Err(e)) => Some(view! { <span class="nhsuk-error-message" role="alert">{e.to_string()}</span> }),
                        _ => None,
                    }}
                    <div class="mdt-inline-fields">
                        <input class="nhsuk-input nhsuk-input--width-20" id="colleague-email" type="email" autocomplete="off"
                            aria-describedby="colleague-email-hint"
                            prop:value=move || colleague_email.get()
                            on:input=move |ev| colleague_email.set(event_target_value(&ev))
                            on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" {
                                ev.prevent_default();
                                lookup.dispatch(colleague_email.get_untracked());
                            }/>
                        <button type="button" class="nhsuk-button nhsuk-button--secondary"
                            on:click=move |_| { lookup.dispatch(colleague_email.get_untracked()); }>
                            "Find and add"
                        </button>
                    </div>
                </div>
                <div class="nhsuk-form-group">
                    <fieldset class="nhsuk-fieldset" aria-describedby="team-roles-hint">
                        <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">"Roles needed for the meeting to go ahead (quorum)"</legend>
                        <div class="nhsuk-hint" id="team-roles-hint">"For example a GP, a social worker and a district nurse."</div>
                        <div class="nhsuk-checkboxes mdt-checkboxes--columns">
                            {Role::ALL.into_iter().map(|role| {
                                let input_id = format!("role-{}", role.as_str());
                                let count_id = format!("role-count-{}", role.as_str());
                                view! {
                                    <div class="mdt-role-choice"><div class="nhsuk-checkboxes__item">
                                        <input class="nhsuk-checkboxes__input" id=input_id.clone() type="checkbox"
                                            prop:checked=move || roles.with(|r| r.contains_key(&role))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                roles.update(|r| { if on { r.insert(role, 1); } else { r.remove(&role); } });
                                            }/>
                                        <label class="nhsuk-label nhsuk-checkboxes__label" for=input_id>{role.label()}</label>
                                    </div>
                                    <Show when=move || roles.with(|r| r.contains_key(&role))>
                                        <div class="nhsuk-checkboxes__conditional mdt-role-count">
                                            <label class="nhsuk-label" for=count_id.clone()>{format!("How many {} must come", role.plural())}</label>
                                            <select class="nhsuk-select" id=count_id.clone()
                                                on:change={move |ev| if let Ok(n) = event_target_value(&ev).parse::<u8>() {
                                                    roles.update(|r| { r.insert(role, n); });
                                                }}>
                                                {(1..=MAX_ROLE_COUNT).map(|n| view! {
                                                    <option value=n.to_string() selected=move || roles.with(|r| r.get(&role) == Some(&n))>{n.to_string()}</option>
                                                }).collect_view()}
                                            </select>
                                        </div>
                                    </Show></div>
                                }
                            }).collect_view()}
                        </div>
                    </fieldset>
                </div>
                <Checkbox id="team-observers_see_measures" label="Let observers see the team's measures"
                    hint="For example a commissioner reviewing the MDT. The measures are counts: no patient is named."
                    checked=observers_see_measures/>
                <Checkbox id="team-email_people_without_accounts" label="Email meeting invitations to members who do not sign in"
                    hint="Members who have an email address in the directory but no account (a GP who never signs in) get each invitation, change and cancellation, with its calendar file and one-click answers. Off until you turn it on."
                    checked=email_without_accounts/>
                <TextField id="team-default_minutes".into() label="Default meeting length (minutes)" value=minutes
                    error=field_error(err, "default_minutes") input_type="text" width_class="nhsuk-input--width-4"/>
                <TextField id="team-agenda_cutoff_hours".into() label="Agenda cut-off (hours before the meeting)"
                    value=agenda_cutoff error=field_error(err, "agenda_cutoff_hours") width_class="nhsuk-input--width-4"
                    hint="After this only the coordinator can add items, marked as late. 48 hours is 2 days."/>
                <TextField id="team-brief_cutoff_hours".into() label="Brief cut-off (hours before the meeting)"
                    value=brief_cutoff error=field_error(err, "brief_cutoff_hours") width_class="nhsuk-input--width-4"
                    hint="Briefs should be ready by then so everyone can read them."/>
                <TextField id="team-place".into() label="Usual place" value=place error=field_error(err, "place")
                    hint="For example, Riverside Surgery, meeting room 2"/>
                <TextField id="team-video_link".into() label="Video link (optional)" value=video
                    error=field_error(err, "video_link") hint="For people joining between home visits. Starts with https://"/>
                <Show when=move || may_change.get()>
                    <button class="nhsuk-button" type="submit">{if is_new { "Create team" } else { "Save team" }}</button>
                </Show>
                </fieldset>
            </form>
            {move || (!is_new && may_archive.get()).then(|| if archived.get() {
                view! { <button type="button" class="nhsuk-button nhsuk-button--secondary" on:click=move |_| set_archived(false)>"Restore this team"</button> }.into_any()
            } else {
                view! { <button type="button" class="nhsuk-button nhsuk-button--warning" on:click=move |_| set_archived(true)>"Archive this team"</button> }.into_any()
            })}
        </Show>
    }
}
