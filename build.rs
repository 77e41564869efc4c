//! Rebuilds the binary when the dashboard build in `dist/` changes: rust-embed tracks the files
//! it embedded, but not files added later (a new hashed asset name). `dist/` always exists
//! (its `.gitkeep` is tracked), so this never reruns for a missing path.

fn main() {
    println!("cargo:rerun-if-changed=dist");
    println!("cargo:rerun-if-changed=build.rs");
}
