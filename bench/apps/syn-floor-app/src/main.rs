//! Nothing to run: the build script is what the harness times.
fn main() {
    println!("{} items parsed", env!("SYN_FLOOR_ITEMS"));
}
