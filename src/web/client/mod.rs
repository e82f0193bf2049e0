//! What talks to the world outside the page: the server (`api`, typed), the sync client that
//! keeps the replica (`sync`), the encrypted copy on the device (`vault` over `idb`),
//! listeners on the window tied to their owner (`listeners`), and long work done in slices that
//! never hold the page for long (`tasks`).

pub mod accounts;
pub mod api;
pub mod idb;
pub mod listeners;
pub mod sync;
pub mod tasks;
pub mod vault;
