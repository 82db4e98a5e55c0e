//! bluefox's build script, as a user writes it.
fn main() {
    bluefox_build::configure();
}
