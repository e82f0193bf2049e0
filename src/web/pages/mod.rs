//! One page per file.

pub mod accounts;
pub mod availability;
pub mod brief;
pub mod conflicts;
pub mod email_settings;
pub mod find_time;
pub mod meeting;
pub mod my_actions;
pub mod needs;
pub mod not_found;
pub mod offline_passphrase;
pub mod pack;
pub mod patient;
pub mod people;
pub mod search;
pub mod second_factor;
pub mod sessions;
pub mod sign_in;
pub mod summaries;
pub mod team;
pub mod team_actions;
pub mod team_calendar;
pub mod team_measures;
pub mod teams;
pub mod unlock;
