#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! Data-driven policy cases: every `tests/cases/**/*.yaml` file of the
//! repository is a suite, every case in it a named test
//! (`<file>::<case name>`). Packs come from `policies/` and `tests/packs/`.

use std::path::{Path, PathBuf};

use cavra_policy::load::{PackFile, PackSource, resolve};
use cavra_policy::testrun::{CaseFile, run_case};
use libtest_mimic::{Arguments, Failed, Trial};

struct Repo {
    dirs: Vec<PathBuf>,
}

impl PackSource for Repo {
    fn get(&self, id: &str) -> Option<PackFile> {
        self.dirs.iter().find_map(|d| {
            let p = d.join(id).join("policy.yaml");
            std::fs::read_to_string(&p).ok().map(|text| PackFile {
                id: id.to_string(),
                path: p.display().to_string(),
                text,
            })
        })
    }
    fn ids(&self) -> Vec<String> {
        Vec::new()
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

fn main() {
    let args = Arguments::from_args();
    let root = repo_root();
    let source = std::sync::Arc::new(Repo {
        dirs: vec![root.join("policies"), root.join("tests/packs")],
    });
    let mut files = Vec::new();
    yaml_files(&root.join("tests/cases"), &mut files);
    let mut trials = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&root).unwrap_or(&f).display().to_string();
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let parsed = CaseFile::parse(&rel, &text);
        let file = match parsed {
            Ok(c) => c,
            Err(e) => {
                let msg = e.to_string();
                trials.push(Trial::test(format!("{rel}::<parse>"), move || {
                    Err(Failed::from(msg))
                }));
                continue;
            }
        };
        let Some(pack) = file.pack().map(str::to_string) else {
            trials.push(Trial::test(format!("{rel}::<header>"), || {
                Err(Failed::from("case files must name their `pack`"))
            }));
            continue;
        };
        let policy = match resolve(source.as_ref(), &pack).and_then(|r| r.compile()) {
            Ok(p) => std::sync::Arc::new(p),
            Err(e) => {
                let msg = e.to_string();
                trials.push(Trial::test(format!("{rel}::<pack {pack}>"), move || {
                    Err(Failed::from(msg))
                }));
                continue;
            }
        };
        for case in file.cases().iter().cloned() {
            let policy = policy.clone();
            trials.push(Trial::test(format!("{rel}::{}", case.name), move || {
                let r = run_case(&policy, &case);
                if r.passed {
                    Ok(())
                } else {
                    Err(Failed::from(r.failures.join("; ")))
                }
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
