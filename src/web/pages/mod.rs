//! One page per file.

pub mod brief;
pub mod meeting;
pub mod not_found;
pub mod pack;
pub mod people;
pub mod sign_in;
pub mod team;
pub mod teams;
