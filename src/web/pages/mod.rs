//! One page per file.

pub mod not_found;
pub mod people;
pub mod sign_in;
pub mod team;
pub mod teams;
