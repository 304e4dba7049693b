#![no_main]
//! Any bytes as a policy.yaml: loading and compiling must never panic.
use cavra_policy::load::{PackFile, PackSource, resolve_file};
use libfuzzer_sys::fuzz_target;

struct Empty;
impl PackSource for Empty {
    fn get(&self, _: &str) -> Option<PackFile> {
        None
    }
    fn ids(&self) -> Vec<String> {
        Vec::new()
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let pf = PackFile { id: "fuzz".into(), path: "fuzz.yaml".into(), text: text.into() };
        if let Ok(r) = resolve_file(&Empty, &pf, &[]) {
            let _ = r.compile();
        }
    }
});
