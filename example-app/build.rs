//! Reads the models, warns about what no migration captures, embeds `migrations/`.

fn main() {
    bluefox_build::configure();
}
