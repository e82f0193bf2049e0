//! The server binary; all logic lives in `mdt::server`.

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    if let Err(e) = mdt::server::cli::main() {
        eprintln!("mdt-server: {e:#}");
        std::process::exit(1);
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {}
