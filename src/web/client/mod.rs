//! What talks to the world outside the page: the server (`api`, typed), the sync client that
//! keeps the replica (`sync`), the encrypted copy on the device (`vault` over `idb`), and
//! listeners on the window tied to their owner (`listeners`).

pub mod accounts;
pub mod api;
pub mod idb;
pub mod listeners;
pub mod sync;
pub mod vault;
