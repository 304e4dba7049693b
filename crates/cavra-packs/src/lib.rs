//! Where packs come from. A pack is `<root>/<pack-id>/policy.yaml`; the root
//! is `CAVRA_POLICY_DIR` when set, else `./policies` when it exists, else the
//! packs built into the binary, so `cavra` works from any directory.

use std::path::{Path, PathBuf};

use cavra_policy::load::{PackFile, PackSource};

include!(concat!(env!("OUT_DIR"), "/builtin.rs"));

/// Largest policy file read from disk.
const MAX_FILE: u64 = cavra_policy::load::MAX_PACK_BYTES as u64;

/// The packs compiled into the binary.
pub struct Builtin;

impl PackSource for Builtin {
    fn get(&self, id: &str) -> Option<PackFile> {
        BUILTIN
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(i, text)| PackFile {
                id: i.to_string(),
                path: format!("<builtin>/{i}/policy.yaml"),
                text: text.to_string(),
            })
    }
    fn ids(&self) -> Vec<String> {
        BUILTIN.iter().map(|(i, _)| i.to_string()).collect()
    }
}

/// Packs under a directory.
pub struct DirSource {
    pub root: PathBuf,
}

impl DirSource {
    fn file(&self, id: &str) -> Option<PathBuf> {
        if id.is_empty() || id.contains(['/', '\\']) || id == "." || id == ".." {
            return None;
        }
        let p = self.root.join(id).join("policy.yaml");
        p.is_file().then_some(p)
    }
}

/// Read a policy file with a size limit.
pub fn read_policy_file(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.len() > MAX_FILE {
        return Err(format!(
            "{}: file is {} bytes, over the {MAX_FILE}-byte limit",
            path.display(),
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{}: file is not valid UTF-8", path.display()))
}

impl PackSource for DirSource {
    fn get(&self, id: &str) -> Option<PackFile> {
        let p = self.file(id)?;
        let text = read_policy_file(&p).ok()?;
        Some(PackFile {
            id: id.to_string(),
            path: p.display().to_string(),
            text,
        })
    }
    fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(&self.root)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|e| e.path().join("policy.yaml").is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        ids.sort();
        ids
    }
}

/// The pack root in effect and where it came from.
pub enum Root {
    Dir {
        path: PathBuf,
        configured_by: &'static str,
    },
    Builtin,
}

/// Resolve the pack root: `CAVRA_POLICY_DIR`, `./policies`, or the builtin packs.
pub fn root() -> Root {
    if let Some(d) = std::env::var_os("CAVRA_POLICY_DIR").filter(|d| !d.is_empty()) {
        let p = PathBuf::from(d);
        if p.is_dir() {
            return Root::Dir {
                path: p,
                configured_by: "CAVRA_POLICY_DIR",
            };
        }
    }
    let local = PathBuf::from("policies");
    if local.is_dir()
        && !(DirSource {
            root: local.clone(),
        })
        .ids()
        .is_empty()
    {
        return Root::Dir {
            path: local,
            configured_by: "./policies",
        };
    }
    Root::Builtin
}

/// The source for the current root. A directory root still falls back to the
/// builtin packs for ids it does not have, so packs can inherit the shipped
/// ones.
pub struct Layered {
    pub dir: Option<DirSource>,
}

impl PackSource for Layered {
    fn get(&self, id: &str) -> Option<PackFile> {
        self.dir
            .as_ref()
            .and_then(|d| d.get(id))
            .or_else(|| Builtin.get(id))
    }
    fn ids(&self) -> Vec<String> {
        match &self.dir {
            Some(d) => d.ids(),
            None => Builtin.ids(),
        }
    }
}

pub fn default_source() -> Layered {
    match root() {
        Root::Dir { path, .. } => Layered {
            dir: Some(DirSource { root: path }),
        },
        Root::Builtin => Layered { dir: None },
    }
}

/// A source rooted at a directory, falling back to the builtin packs.
pub fn source_at(dir: &Path) -> Layered {
    Layered {
        dir: Some(DirSource {
            root: dir.to_path_buf(),
        }),
    }
}
