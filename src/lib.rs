//! MDT coordination app: one package, three layers.
//!
//! * [`core`] — the pure domain (types, validation, sync merge, UK time). No IO; compiles for the
//!   browser and the server so both agree on every wire type and rule.
//! * `web` — the Leptos app (wasm32 only).
//! * `server` — the axum JSON API and SQLite store (native only).

pub mod core;

#[cfg(target_arch = "wasm32")]
pub mod web;

#[cfg(not(target_arch = "wasm32"))]
pub mod server;
