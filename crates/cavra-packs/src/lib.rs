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
    /// The pack file of `id`, when something is there (a file, a link, a
    /// directory): an entry that cannot be read is an error, never absent.
    fn file(&self, id: &str) -> Option<PathBuf> {
        if id.is_empty() || id.contains(['/', '\\']) || id == "." || id == ".." {
            return None;
        }
        let p = self.root.join(id).join("policy.yaml");
        std::fs::symlink_metadata(&p).is_ok().then_some(p)
    }

    /// Whether the directory has pack `id` (readable or not).
    pub fn has(&self, id: &str) -> bool {
        self.file(id).is_some()
    }
}

/// Read a policy file with a size limit.
pub fn read_policy_file(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // Only regular files: opening a FIFO would wait for a writer, and a
    // device could be read forever.
    if !meta.is_file() {
        return Err(format!("{}: not a regular file", path.display()));
    }
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
    fn problem(&self, id: &str) -> Option<String> {
        read_policy_file(&self.file(id)?).err()
    }
    fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(&self.root)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .filter(|e| std::fs::symlink_metadata(e.path().join("policy.yaml")).is_ok())
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
    /// The directory's pack, else the builtin one of that id. A pack the
    /// directory has but cannot read is not replaced by the builtin one
    /// (a stricter local baseline silently served as the shipped one).
    fn get(&self, id: &str) -> Option<PackFile> {
        match &self.dir {
            Some(d) if d.has(id) => d.get(id),
            _ => Builtin.get(id),
        }
    }
    fn problem(&self, id: &str) -> Option<String> {
        self.dir.as_ref().and_then(|d| d.problem(id))
    }
    fn ids(&self) -> Vec<String> {
        match &self.dir {
            Some(d) => d.ids(),
            None => Builtin.ids(),
        }
    }
}

/// The source for commands an agent runs in its project (`cavra hook`,
/// `cavra mcp`, `cavra agent exec`): `CAVRA_POLICY_DIR` or the builtin
/// packs, never `./policies`. The working directory is the project being
/// judged, and a repository that ships `policies/<id>/policy.yaml` would
/// otherwise choose its own rules.
pub fn agent_source() -> Layered {
    match root() {
        Root::Dir {
            path,
            configured_by: "CAVRA_POLICY_DIR",
        } => Layered {
            dir: Some(DirSource { root: path }),
        },
        _ => Layered { dir: None },
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

/// A resolved pack cached as JSON, with the text hash of every pack file
/// that went into it.
#[derive(serde::Serialize, serde::Deserialize)]
struct CacheEntry {
    version: String,
    id: String,
    files: Vec<String>,
    deps: Vec<(String, String)>,
    digest: String,
    spec: cavra_policy::PackSpec,
}

fn text_hash(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Records every pack a resolution reads.
struct Recording<'a> {
    inner: &'a dyn PackSource,
    seen: std::cell::RefCell<Vec<(String, String)>>,
}

impl PackSource for Recording<'_> {
    fn get(&self, id: &str) -> Option<PackFile> {
        let f = self.inner.get(id);
        if let Some(f) = &f {
            self.seen
                .borrow_mut()
                .push((id.to_string(), text_hash(&f.text)));
        }
        f
    }
    fn ids(&self) -> Vec<String> {
        self.inner.ids()
    }
    fn problem(&self, id: &str) -> Option<String> {
        self.inner.problem(id)
    }
}

/// The text hashes of every pack file a resolution read, to tell later
/// whether any of them changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PackDeps(Vec<(String, String)>);

impl PackDeps {
    /// Whether `source` still serves every recorded pack with the same text.
    /// A pack that disappeared, moved to another layer or was edited counts
    /// as a change.
    pub fn unchanged(&self, source: &dyn PackSource) -> bool {
        self.0
            .iter()
            .all(|(id, h)| source.get(id).is_some_and(|f| text_hash(&f.text) == *h))
    }
}

/// Resolves pack `id` from `source` and records the text hash of every pack
/// file the resolution read (the pack and all it inherits), so a long-lived
/// process can notice edits with [`PackDeps::unchanged`].
pub fn resolve_tracked(
    source: &dyn PackSource,
    id: &str,
) -> Result<(cavra_policy::ResolvedPack, PackDeps), cavra_policy::LoadError> {
    let rec = Recording {
        inner: source,
        seen: std::cell::RefCell::new(Vec::new()),
    };
    let resolved = cavra_policy::load::resolve(&rec, id)?;
    Ok((resolved, PackDeps(rec.seen.into_inner())))
}

/// The pack without its embedded tests, keeping the digest of the whole
/// pack (the known one, or computed before the tests go).
fn without_tests(mut r: cavra_policy::ResolvedPack) -> cavra_policy::ResolvedPack {
    r.known_digest = Some(r.digest());
    r.spec.tests.clear();
    r
}

/// Resolves `file` (parents from `source`), reusing a cached resolution in
/// `cache_dir` when every pack text that went into it is unchanged.
///
/// Parsing and validating YAML costs a hook process more than a millisecond;
/// the cache entry is keyed by the file's text and checked against the
/// SHA-256 of every inherited pack's current text, so an edited pack is
/// never served stale. Hooks keep the cache in the user's cache directory
/// (`~/.cache/cavra/packs`, never inside a repository, which could ship a
/// forged entry); self-protection keeps agents from writing there. Cache
/// failures only cost time: the pack is then resolved from its text.
///
/// The pack comes back without its embedded tests, which only
/// `cavra policy test` runs (from the pack itself); its digest stays that
/// of the whole pack.
pub fn resolve_file_cached(
    source: &dyn PackSource,
    file: &PackFile,
    cache_dir: Option<&Path>,
) -> Result<cavra_policy::ResolvedPack, cavra_policy::LoadError> {
    let Some(dir) = cache_dir else {
        return cavra_policy::load::resolve_file(source, file, &[]).map(without_tests);
    };
    let version = env!("CARGO_PKG_VERSION");
    let key = text_hash(&format!(
        "{version}\0{}\0{}\0{}",
        file.id, file.path, file.text
    ));
    let entry_path = dir.join(format!("{key}.json"));
    if let Ok(bytes) = std::fs::read(&entry_path)
        && let Ok(entry) = serde_json::from_slice::<CacheEntry>(&bytes)
        && entry.version == version
        && entry.id == file.id
        && entry
            .deps
            .iter()
            .all(|(id, h)| source.get(id).is_some_and(|f| text_hash(&f.text) == *h))
    {
        return Ok(without_tests(cavra_policy::ResolvedPack {
            id: entry.id,
            spec: entry.spec,
            files: entry.files,
            known_digest: Some(entry.digest),
        }));
    }
    let rec = Recording {
        inner: source,
        seen: std::cell::RefCell::new(Vec::new()),
    };
    let resolved = without_tests(cavra_policy::load::resolve_file(&rec, file, &[])?);
    let entry = CacheEntry {
        version: version.to_string(),
        id: resolved.id.clone(),
        files: resolved.files.clone(),
        deps: rec.seen.into_inner(),
        digest: resolved.digest(),
        spec: resolved.spec.clone(),
    };
    if let Ok(text) = serde_json::to_vec(&entry) {
        let tmp = dir.join(format!("{key}.{}.tmp", std::process::id()));
        let _ = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&tmp, &text))
            .and_then(|()| std::fs::rename(&tmp, &entry_path));
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(resolved)
}
