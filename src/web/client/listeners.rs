//! Listeners on the window that live exactly as long as their owner (the component or scope
//! that added them): removed when it is cleaned up, so locking and unlocking, or signing out
//! and in again, never piles them up.

use std::cell::Cell;

use leptos::prelude::on_cleanup;
use send_wrapper::SendWrapper;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

thread_local! {
    static ACTIVE: Cell<usize> = const { Cell::new(0) };
}

/// How many window listeners added through [`on_window`] are in place now.
pub fn active_window_listeners() -> usize {
    ACTIVE.with(Cell::get)
}

/// Calls `handler` on every `event` at the window (in the capture phase when `capture`, so
/// events that do not bubble, like a scroll inside the page, are heard too) until the current
/// reactive owner is cleaned up.
pub fn on_window(event: &'static str, capture: bool, handler: impl Fn() + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let closure = Closure::<dyn Fn()>::new(handler);
    if window
        .add_event_listener_with_callback_and_bool(event, closure.as_ref().unchecked_ref(), capture)
        .is_err()
    {
        return;
    }
    ACTIVE.with(|n| n.set(n.get() + 1));
    let held = SendWrapper::new((window, closure));
    on_cleanup(move || {
        let (window, closure) = held.take();
        let _ = window.remove_event_listener_with_callback_and_bool(
            event,
            closure.as_ref().unchecked_ref(),
            capture,
        );
        ACTIVE.with(|n| n.set(n.get() - 1));
    });
}
