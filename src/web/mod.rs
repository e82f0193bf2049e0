//! The browser app (Leptos, client-side rendered). Thin components over the core: they read
//! records from the sync client and save through it; rules live in `crate::core`.
//!
//! * `app` — the shell: sign-in, unlock, the signed-in view, idle lock, the route table.
//! * `routes` — every address: `Page`, typed path parameters, links. It imports no page, so
//!   pages, components and addresses never import each other in a circle (`tests/web_layers.rs`).
//! * `pages/` — one page per file (a page's own sections in its folder).
//! * `components/` — widgets shared by several pages.
//! * `views/` — view models: what a page shows, computed from the replica.
//! * `client/` — the sync client, the encrypted copy (vault, IndexedDB), the typed API client,
//!   window listeners.

pub mod app;
pub mod client;
pub mod components;
pub mod pages;
pub mod routes;
pub mod views;

pub use app::start;
