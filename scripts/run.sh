#!/usr/bin/env bash
# Builds and starts the app: the server and the browser app on one port, an embedded SQLite
# database in ./data (MDT_DATA_DIR), and the synthetic demo teams loaded. Prints the URL.
# Settings: MDT_ADDR (default 127.0.0.1:8080), MDT_DATA_DIR (default ./data).
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

build_app
step "Building the server (release)"
cargo build --release --bin mdt-server

step "Loading the demo data"
./target/release/mdt-server demo

step "Starting the server"
exec ./target/release/mdt-server --dist dist serve
