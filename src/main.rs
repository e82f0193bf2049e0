//! Browser entry point: mounts the app (Trunk builds this for wasm32).

#[cfg(target_arch = "wasm32")]
fn main() {
    mdt::web::start();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("mdt-web is the browser app; build it with Trunk. The server is mdt-server.");
}
