//! Long work in slices. A phone runs the app's code several times slower than a laptop, and
//! anything that holds the page for more than 50 ms there makes taps and scrolling wait (a
//! "long task"): reading a page of a thousand records, or saving them, is done a slice at a
//! time, letting the browser paint and answer input in between.

/// Work done before handing the page back: 8 ms here stays under 50 ms on a phone four times
/// slower (Lighthouse's mobile preset).
const SLICE_MS: f64 = 8.0;

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or_else(js_sys::Date::now, |p| p.now())
}

/// Lets the browser paint and handle input before carrying on: `scheduler.yield()` where the
/// browser has it (the work carries on ahead of other queued tasks), else a zero timeout.
pub async fn yield_to_browser() {
    use js_sys::{Function, Promise, Reflect};
    use wasm_bindgen::JsCast;
    let global = js_sys::global();
    let scheduler = Reflect::get(&global, &"scheduler".into()).ok();
    let yielded = scheduler.filter(|s| !s.is_undefined()).and_then(|s| {
        let call = Reflect::get(&s, &"yield".into())
            .ok()?
            .dyn_into::<Function>()
            .ok()?;
        call.call0(&s).ok()?.dyn_into::<Promise>().ok()
    });
    match yielded {
        Some(promise) => {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        }
        None => gloo_timers::future::TimeoutFuture::new(0).await,
    }
}

/// A run of work that hands the page back whenever it has held it for a slice.
pub struct Slices {
    since: f64,
}

impl Slices {
    /// Starts timing the current slice now.
    pub fn start() -> Self {
        Self { since: now_ms() }
    }

    /// Yields to the browser if this slice has run its time; call between units of work.
    pub async fn pause_if_due(&mut self) {
        if now_ms() - self.since >= SLICE_MS {
            yield_to_browser().await;
            self.since = now_ms();
        }
    }
}
