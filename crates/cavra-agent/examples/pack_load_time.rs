//! Where a hook's time goes, cold (one iteration per process): cached pack
//! resolution, compilation, one decision.
use std::time::Instant;

fn main() {
    let cache = std::env::args().nth(1).map(std::path::PathBuf::from);
    let source = cavra_packs::default_source();
    let t0 = Instant::now();
    let file = cavra_policy::PackSource::get(&source, "cavra-ai-agent-baseline");
    let Some(file) = file else { return };
    let r = cavra_packs::resolve_file_cached(&source, &file, cache.as_deref());
    let t1 = Instant::now();
    let Ok(r) = r else { return };
    let p = r.compile();
    let t2 = Instant::now();
    let Ok(p) = p else { return };
    let mut a = cavra_policy::Action::new(
        cavra_policy::ActionType::ExecuteCommand,
        "git push origin main",
    );
    a.repo_root = Some("/tmp/hb".into());
    let d = cavra_policy::decide_now(
        &p,
        &a,
        &cavra_policy::EvalContext::default(),
        None,
        &cavra_policy::BreakGlass::default(),
    );
    let t3 = Instant::now();
    let s = serde_json::to_string(&d).unwrap_or_default();
    let t4 = Instant::now();
    println!(
        "resolve {:?} compile {:?} decide {:?} json {:?} ({} bytes)",
        t1 - t0,
        t2 - t1,
        t3 - t2,
        t4 - t3,
        s.len()
    );
}
