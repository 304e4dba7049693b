//! How long loading and compiling the default pack takes (hook start-up cost).
use std::time::Instant;

fn main() {
    let source = cavra_packs::default_source();
    let n = 50;
    let t = Instant::now();
    let mut r = None;
    for _ in 0..n {
        r = cavra_policy::load::resolve(&source, "cavra-ai-agent-baseline").ok();
    }
    let resolve = t.elapsed() / n;
    let t = Instant::now();
    for _ in 0..n {
        if let Some(r) = &r {
            let _ = r.compile();
        }
    }
    let compile = t.elapsed() / n;
    println!("resolve {resolve:?} compile {compile:?}");
}
