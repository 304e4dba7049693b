//! Links the `cavra` executable without PIE.
//!
//! A hook is a fresh process per tool call. As a position-independent
//! executable, `cavra` spends about 1.5 ms at every start applying ~32,000
//! relative relocations (dirtying the pages of its read-only data), which is
//! more than the whole budget of a hook call. Linked at a fixed address the
//! loader has nothing to relocate. Heap, stack, mmap and shared libraries
//! stay randomised; only the executable image itself loses ASLR. See
//! `bench/hooks.sh` for the measurement.
fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" && std::env::var_os("CAVRA_PIE").is_none() {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-env-changed=CAVRA_PIE");
}
