//! Entry point of the wasm binary built by trunk: mounts the app, nothing else.

fn main() {
    bank_frontend::mount();
}
