//! `cavra policy …`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use cavra_evidence::policy_sig::{self, PolicySignature, SignKey};
use cavra_policy::load::{self, PackSource, ResolvedPack, resolve, resolve_file};
use cavra_policy::testrun::{CaseFile, run_case};
use clap::Subcommand;

use crate::{EvalArgs, PackArgs, UsageError, pack_file};

#[derive(Subcommand)]
pub enum PolicyCmd {
    /// List the packs under the policy root
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one pack after inheritance (YAML-equivalent JSON)
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Validate policy files (syntax, types, unknown fields, semantics, inheritance)
    Validate {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Run a pack's embedded tests and any --cases files
    Test {
        #[command(flatten)]
        pack: PackArgs,
        /// YAML list of {name, action, target, …, expect}
        #[arg(long)]
        cases: Vec<PathBuf>,
        /// Test every pack under the policy root
        #[arg(long, conflicts_with_all = ["policy_pack", "policy"])]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Evaluate an action and print the decision with its explanation
    Explain(Box<EvalArgs>),
    /// Print a pack after inheritance and overlays, with its digest
    Compile {
        #[command(flatten)]
        pack: PackArgs,
        /// Overlay files applied in order
        #[arg(long)]
        overlay: Vec<PathBuf>,
    },
    /// Semantic difference between two packs (ids or files)
    Diff {
        left: String,
        right: String,
        #[arg(long)]
        json: bool,
    },
    /// Sign a policy file, writing <file>.sig.json
    Sign {
        path: PathBuf,
        #[arg(long, default_value = "local")]
        signer: String,
        /// HMAC key file (HS256)
        #[arg(long, conflicts_with = "private_key")]
        key: Option<PathBuf>,
        /// Ed25519 private key (PKCS#8 PEM)
        #[arg(long)]
        private_key: Option<PathBuf>,
        #[arg(long)]
        key_id: Option<String>,
    },
    /// Verify a policy file against its signature. The key you pass decides
    /// the algorithm (--public-key: Ed25519 only; --key: HS256 only); with
    /// no key only a digest-only signature passes, proving integrity, not
    /// who signed
    Verify {
        path: PathBuf,
        /// Signature file (default <file>.sig.json)
        #[arg(long)]
        signature: Option<PathBuf>,
        /// HMAC key file (HS256, at least 32 bytes)
        #[arg(long, conflicts_with = "public_key")]
        key: Option<PathBuf>,
        /// Ed25519 public key (SPKI PEM)
        #[arg(long)]
        public_key: Option<PathBuf>,
    },
    /// Generate an Ed25519 signing key pair
    Keygen {
        #[arg(long, default_value = ".cavra/policy-signing")]
        output: PathBuf,
        #[arg(long, default_value = "local-policy-signing-key")]
        key_id: String,
    },
    /// Copy a pack (default: the baseline) to start your own
    Init {
        #[arg(long, default_value = ".cavra/policy.yaml")]
        destination: PathBuf,
        #[arg(long, default_value = crate::DEFAULT_PACK)]
        from: String,
        #[arg(long)]
        force: bool,
    },
    /// Print the JSON Schema of the pack format
    Schema,
}

pub fn run(cmd: PolicyCmd) -> Result<ExitCode> {
    let source = cavra_packs::default_source();
    match cmd {
        PolicyCmd::List { json } => {
            let mut rows = Vec::new();
            for id in source.ids() {
                match resolve(&source, &id) {
                    Ok(p) => rows.push(serde_json::json!({"id": id, "title": p.spec.title(), "description": p.spec.description(), "version": p.spec.version(), "digest": p.digest()})),
                    Err(e) => rows.push(serde_json::json!({"id": id, "error": e.to_string()})),
                }
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                println!("Available policy packs:");
                for r in &rows {
                    let id = r["id"].as_str().unwrap_or("");
                    match r.get("error") {
                        Some(e) => println!("  {id}: INVALID ({})", e.as_str().unwrap_or("")),
                        None => println!("  {id}: {}", r["title"].as_str().unwrap_or("")),
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        PolicyCmd::Show { id, json: _ } => {
            let p = resolve(&source, &id).map_err(|e| anyhow!("{e}"))?;
            let v = serde_json::json!({"id": id, "digest": p.digest(), "files": p.files, "policy": p.spec});
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(ExitCode::SUCCESS)
        }
        PolicyCmd::Validate { paths, json } => {
            let mut ok = true;
            let mut report = Vec::new();
            for path in &paths {
                // Paths go into the report as text: a non-UTF-8 name is
                // shown lossily rather than panicking the JSON encoder.
                let shown = path.display().to_string();
                // A file that cannot be read is one invalid entry; the
                // others are still checked and reported.
                let pf = match pack_file(path) {
                    Ok(pf) => pf,
                    Err(e) => {
                        ok = false;
                        if !json {
                            println!("invalid {shown}");
                            println!("  - {e:#}");
                        }
                        report.push(serde_json::json!({"path": shown, "valid": false, "errors": [format!("{e:#}")]}));
                        continue;
                    }
                };
                let parent_root = path
                    .parent()
                    .and_then(Path::parent)
                    .map(cavra_packs::source_at);
                let result = match &parent_root {
                    Some(src) => resolve_file(src, &pf, &[]),
                    None => resolve_file(&source, &pf, &[]),
                }
                .and_then(|r| r.compile().map(|_| r));
                match result {
                    Ok(r) => {
                        if !json {
                            println!(
                                "valid {} ({})",
                                r.spec.pack_id().unwrap_or(&r.id),
                                r.digest()
                            );
                        }
                        report.push(serde_json::json!({"path": shown, "valid": true, "id": r.spec.pack_id(), "digest": r.digest()}));
                    }
                    Err(e) => {
                        ok = false;
                        if !json {
                            println!("invalid {}", path.display());
                            for d in &e.diagnostics {
                                println!("  - {d}");
                            }
                        }
                        report.push(serde_json::json!({"path": shown, "valid": false, "errors": e.diagnostics}));
                    }
                }
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
            Ok(if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        PolicyCmd::Test {
            pack,
            cases,
            all,
            json,
        } => test(&source, pack, cases, all, json),
        PolicyCmd::Explain(mut a) => {
            a.json = true;
            let action = crate::build_action(&a)?;
            let mode = crate::parse_mode(a.policy_mode.as_deref())?;
            let policy = crate::load_pack(&a.pack)?;
            let bg = cavra_policy::BreakGlass {
                actor: a.break_glass_actor.clone(),
                reason: a.break_glass_reason.clone(),
            };
            let d = cavra_policy::decide_now(
                &policy,
                &action,
                &cavra_policy::EvalContext::default(),
                mode,
                &bg,
            );
            crate::print_decision(&d, true)?;
            Ok(ExitCode::SUCCESS)
        }
        PolicyCmd::Compile { pack, overlay } => {
            let overlays = overlay
                .iter()
                .map(|p| pack_file(p))
                .collect::<Result<Vec<_>>>()?;
            let base = match (&pack.policy_pack, &pack.policy_file()) {
                (Some(id), _) => source
                    .get(id)
                    .ok_or_else(|| anyhow!("policy pack `{id}` not found"))?,
                (None, Some(f)) => pack_file(f)?,
                (None, None) => source
                    .get(crate::DEFAULT_PACK)
                    .ok_or_else(|| anyhow!("policy pack `{}` not found", crate::DEFAULT_PACK))?,
            };
            let r = resolve_file(&source, &base, &overlays).map_err(|e| anyhow!("{e}"))?;
            r.compile().map_err(|e| anyhow!("{e}"))?;
            let v = serde_json::json!({"id": r.id, "digest": r.digest(), "files": r.files, "policy": r.spec});
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(ExitCode::SUCCESS)
        }
        PolicyCmd::Diff { left, right, json } => {
            let l = load_any(&source, &left)?;
            let r = load_any(&source, &right)?;
            let d = load::diff(&l.spec, &r.spec);
            if json {
                println!("{}", serde_json::to_string_pretty(&d)?);
            } else {
                for (sign, list) in [("+", &d.added), ("-", &d.removed), ("~", &d.changed)] {
                    for p in list {
                        println!("{sign} {p}");
                    }
                }
                if d.is_empty() {
                    println!("no differences");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        PolicyCmd::Sign {
            path,
            signer,
            key,
            private_key,
            key_id,
        } => {
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let key_bytes;
            let pem;
            let k = match (&key, &private_key) {
                (Some(k), _) => {
                    key_bytes = std::fs::read(k)
                        .with_context(|| format!("cannot read key {}", k.display()))?;
                    SignKey::Hmac(trim_newline(&key_bytes))
                }
                (None, Some(p)) => {
                    pem = std::fs::read_to_string(p)
                        .with_context(|| format!("cannot read private key {}", p.display()))?;
                    SignKey::Ed25519 {
                        private_pem: &pem,
                        key_id: key_id.as_deref(),
                    }
                }
                (None, None) => SignKey::DigestOnly,
            };
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let sig = policy_sig::sign(
                &bytes,
                &name,
                &signer,
                k,
                &cavra_policy::mode::now_rfc3339(),
            )
            .map_err(|e| anyhow!("{e}"))?;
            let out = sig_path(&path);
            if std::fs::symlink_metadata(&out).is_ok() {
                eprintln!("replacing the existing signature {}", out.display());
            }
            write_file(
                &out,
                (serde_json::to_string_pretty(&sig)? + "\n").as_bytes(),
                true,
                0o644,
            )?;
            println!(
                "signed {} ({}, {}) -> {}",
                path.display(),
                sig.algorithm,
                sig.digest,
                out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        PolicyCmd::Verify {
            path,
            signature,
            key,
            public_key,
        } => {
            let bytes =
                std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let explicit = signature.is_some();
            let keyed = key.is_some() || public_key.is_some();
            let sp = signature.unwrap_or_else(|| sig_path(&path));
            let sig = match std::fs::read_to_string(&sp) {
                Ok(text) => serde_json::from_str::<PolicySignature>(&text).map_err(|e| {
                    UsageError(format!("{}: invalid signature file: {e}", sp.display()))
                })?,
                // Only a missing default signature falls back to the legacy
                // digest file, and only when no key asks for authenticity
                // (a bare digest proves nothing about who wrote the file).
                Err(e) if e.kind() != std::io::ErrorKind::NotFound || explicit || keyed => {
                    println!(
                        "signature verification failed: {}: cannot read {}: {e}",
                        path.display(),
                        sp.display()
                    );
                    return Ok(ExitCode::from(1));
                }
                Err(_) => {
                    // Legacy `<file>.sig` holding `sha256:<hex>`.
                    let legacy = PathBuf::from(format!("{}.sig", path.display()));
                    let text = std::fs::read_to_string(&legacy).map_err(|_| {
                        UsageError(format!(
                            "no signature found: neither {} nor {}",
                            sp.display(),
                            legacy.display()
                        ))
                    })?;
                    if text.trim() == policy_sig::file_digest(&bytes) {
                        println!(
                            "digest verified: {} (legacy digest file: integrity only, no signer)",
                            path.display()
                        );
                        return Ok(ExitCode::SUCCESS);
                    }
                    println!(
                        "signature verification failed: {}: policy digest mismatch",
                        path.display()
                    );
                    return Ok(ExitCode::from(1));
                }
            };
            let pem = public_key
                .as_ref()
                .map(|p| {
                    std::fs::read_to_string(p)
                        .with_context(|| format!("cannot read public key {}", p.display()))
                })
                .transpose()?;
            let hk = key
                .as_ref()
                .map(|k| {
                    std::fs::read(k).with_context(|| format!("cannot read key {}", k.display()))
                })
                .transpose()?;
            match policy_sig::verify(
                &bytes,
                &sig,
                pem.as_deref(),
                hk.as_deref().map(trim_newline),
            ) {
                Ok(()) if sig.algorithm == "SHA256" => {
                    println!(
                        "digest verified: {} (digest-only signature: integrity only; signer {:?} is not proven)",
                        path.display(),
                        sig.signer
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Ok(()) => {
                    println!(
                        "signature verified: {} ({}, signer {})",
                        path.display(),
                        sig.algorithm,
                        sig.signer
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    println!("signature verification failed: {}: {e}", path.display());
                    Ok(ExitCode::from(1))
                }
            }
        }
        PolicyCmd::Keygen { output, key_id } => {
            // The key id names the files: one plain file name, no path.
            if key_id.is_empty()
                || key_id.len() > 128
                || key_id.starts_with('.')
                || key_id
                    .chars()
                    .any(|c| c == '/' || c == '\\' || c.is_control())
            {
                return Err(UsageError(format!(
                    "--key-id {key_id:?}: use 1 to 128 characters, no path separators, \
                     control characters or leading dot"
                ))
                .into());
            }
            let kp = policy_sig::keygen(&key_id).map_err(|e| anyhow!("{e}"))?;
            std::fs::create_dir_all(&output)
                .with_context(|| format!("cannot create {}", output.display()))?;
            let private = output.join(format!("{key_id}.pem"));
            let public = output.join(format!("{key_id}.pub.pem"));
            // Neither file may exist (a dangling link counts): nothing is
            // written unless both can be.
            for p in [&private, &public] {
                if std::fs::symlink_metadata(p).is_ok() {
                    return Err(UsageError(format!(
                        "{} exists; refusing to overwrite a key",
                        p.display()
                    ))
                    .into());
                }
            }
            write_file(&private, kp.private_pem.as_bytes(), false, 0o600)?;
            if let Err(e) = write_file(&public, kp.public_pem.as_bytes(), false, 0o644) {
                let _ = std::fs::remove_file(&private);
                return Err(e);
            }
            let mut v = serde_json::to_value(&kp)?;
            if let Some(m) = v.as_object_mut() {
                m.insert(
                    "private_key_path".into(),
                    serde_json::json!(private.display().to_string()),
                );
                m.insert(
                    "public_key_path".into(),
                    serde_json::json!(public.display().to_string()),
                );
            }
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(ExitCode::SUCCESS)
        }
        PolicyCmd::Init {
            destination,
            from,
            force,
        } => {
            let pf = source
                .get(&from)
                .ok_or_else(|| anyhow!("policy pack `{from}` not found"))?;
            // `symlink_metadata`: a dangling link exists too, and is not
            // written through.
            if std::fs::symlink_metadata(&destination).is_ok() && !force {
                return Err(UsageError(format!(
                    "{} exists; pass --force to overwrite",
                    destination.display()
                ))
                .into());
            }
            if let Some(d) = destination.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(d)
                    .with_context(|| format!("cannot create {}", d.display()))?;
            }
            write_file(&destination, pf.text.as_bytes(), force, 0o644)?;
            println!("wrote {} (from {from})", destination.display());
            Ok(ExitCode::SUCCESS)
        }
        PolicyCmd::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&cavra_policy::pack_json_schema())?
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn trim_newline(b: &[u8]) -> &[u8] {
    let mut end = b.len();
    while end > 0 && matches!(b.get(end - 1), Some(b'\n' | b'\r')) {
        end -= 1;
    }
    b.get(..end).unwrap_or(b)
}

/// Writes a new file at `path` with `mode`, never through a symbolic link:
/// without `replace` the file must not exist (a dangling link counts);
/// with it, the file is replaced atomically ([`cavra_store::fsx::replace_file`]),
/// which replaces a link rather than its target.
fn write_file(path: &Path, bytes: &[u8], replace: bool, mode: u32) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if replace {
        return cavra_store::fsx::replace_file(path, bytes, mode, false)
            .map_err(|(p, e)| anyhow!("cannot write {}: {e}", p.display()));
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn sig_path(path: &Path) -> PathBuf {
    // The bytes of the name, not its display form: two non-UTF-8 names
    // must not share one signature file.
    let mut s = path.as_os_str().to_owned();
    s.push(".sig.json");
    PathBuf::from(s)
}

fn load_any(source: &dyn PackSource, spec: &str) -> Result<ResolvedPack> {
    let p = Path::new(spec);
    if p.is_file() {
        let pf = pack_file(p)?;
        resolve_file(source, &pf, &[]).map_err(|e| anyhow!("{e}"))
    } else {
        resolve(source, spec).map_err(|e| anyhow!("{e}"))
    }
}

fn test(
    source: &dyn PackSource,
    pack: PackArgs,
    cases: Vec<PathBuf>,
    all: bool,
    json: bool,
) -> Result<ExitCode> {
    let ids: Vec<Option<String>> = if all {
        source.ids().into_iter().map(Some).collect()
    } else {
        vec![None]
    };
    let mut passed = 0usize;
    let mut failed = 0usize;
    let mut report = Vec::new();
    for id in ids {
        let args = match &id {
            Some(i) => PackArgs {
                policy_pack: Some(i.clone()),
                policy: None,
            },
            None => pack.clone(),
        };
        let policy = crate::load_pack(&args)?;
        let mut suites: Vec<(String, Vec<cavra_policy::spec::TestCase>)> =
            vec![(format!("{} (embedded)", policy.name), policy.tests.clone())];
        for c in &cases {
            let text = crate::read_text(c).map_err(|e| UsageError(format!("{e:#}")))?;
            let file = CaseFile::parse(&c.display().to_string(), &text)
                .map_err(|e| UsageError(e.to_string()))?;
            if let Some(p) = file.pack()
                && p != policy.name
                && p != policy.pack_id
            {
                return Err(UsageError(format!(
                    "{}: cases are for pack `{p}`, not `{}`",
                    c.display(),
                    policy.name
                ))
                .into());
            }
            suites.push((c.display().to_string(), file.cases().to_vec()));
        }
        for (suite, list) in suites {
            if !json && !list.is_empty() {
                println!("{suite}");
            }
            for case in &list {
                let r = run_case(&policy, case);
                if r.passed {
                    passed += 1;
                } else {
                    failed += 1;
                }
                if !json {
                    println!("  {} {}", if r.passed { "PASS" } else { "FAIL" }, r.name);
                    for f in &r.failures {
                        println!("       {f}");
                    }
                }
                report.push(serde_json::json!({"pack": policy.name, "suite": suite, "result": r}));
            }
        }
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"passed": passed, "failed": failed, "cases": report})
            )?
        );
    } else {
        println!("{passed} passed, {failed} failed");
    }
    if passed + failed == 0 {
        eprintln!("warning: no test cases ran");
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
