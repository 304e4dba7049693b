//! `cavra ops …`: the persistent stores — where they are, backup, restore,
//! retention plan, migration between backends.
//!
//! Backup and restore are CLI-only on purpose: the API never gains
//! file-system restore authority.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use cavra_store::ops;
use cavra_store::{Location, Stores, plan_at, plan_from_env};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use crate::UsageError;

#[derive(Subcommand)]
pub enum OpsCmd {
    /// Each store's kind, path or URL, who configured it, whether it exists, size and record counts
    Stores {
        #[arg(long)]
        json: bool,
    },
    /// Copy every store and write a manifest with a sha256 per store
    Backup {
        #[arg(long, default_value = ".cavra/backups/latest")]
        output: PathBuf,
        /// Also back up stores that do not exist yet (as empty documents)
        #[arg(long)]
        include_missing: bool,
        #[arg(long)]
        json: bool,
    },
    /// Restore a backup: checks every sha256 first, refuses paths that escape, skips existing targets
    Restore {
        /// The backup's manifest.json
        manifest: PathBuf,
        /// Restore under this directory instead of the original paths
        #[arg(long)]
        target_dir: Option<PathBuf>,
        /// Replace existing store files (and PostgreSQL tables)
        #[arg(long)]
        overwrite: bool,
        #[arg(long)]
        json: bool,
    },
    /// Retention, backup and restore-test plan for the stores
    RetentionPlan {
        /// Days to retain, 1 to 36500 (as the API accepts)
        #[arg(long, default_value_t = 2555, value_parser = clap::value_parser!(u32).range(1..=36_500))]
        retention_days: u32,
        #[arg(long, default_value = "regulated-sdlc")]
        classification: String,
        #[arg(long)]
        legal_hold: bool,
    },
    /// Move decisions recorded by hooks (the hook spool, CAVRA_HOOK_SPOOL) into the activity store
    Ingest {
        #[arg(long)]
        json: bool,
    },
    /// Copy every record between backends: json[:DIR], sqlite:FILE or postgres://…
    Migrate {
        /// Source (default: the stores the environment configures)
        #[arg(long)]
        from: Option<String>,
        /// Target
        #[arg(long)]
        to: String,
        #[arg(long)]
        json: bool,
    },
}

/// Parses a backend spec; PostgreSQL URLs take `CAVRA_DATABASE_SCHEMA`.
fn parse_spec(spec: &str) -> Result<std::collections::BTreeMap<cavra_store::StoreName, Location>> {
    let mut locs = Location::parse_spec(spec).map_err(|e| UsageError(e.to_string()))?;
    if let Ok(schema) = std::env::var("CAVRA_DATABASE_SCHEMA")
        && !schema.trim().is_empty()
    {
        for loc in locs.values_mut() {
            if let Location::Postgres { schema: s, .. } = loc {
                *s = Some(schema.clone());
            }
        }
    }
    Ok(locs)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// A progress bar on a terminal, nothing when stderr is piped.
struct Bar {
    bar: Option<ProgressBar>,
}

impl Bar {
    fn new() -> Bar {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new(0);
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} {msg:<18} [{bar:30}] {pos}/{len}")
            {
                b.set_style(style.progress_chars("=> "));
            }
            b
        });
        Bar { bar }
    }

    fn update(&mut self, what: &str, done: u64, total: u64) {
        if let Some(b) = &self.bar {
            b.set_length(total);
            b.set_position(done);
            b.set_message(what.to_string());
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn print_json(v: &impl serde::Serialize) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

async fn env_stores() -> Result<Stores> {
    let plans = plan_from_env(|k| std::env::var(k).ok()).map_err(|e| UsageError(e.to_string()))?;
    Ok(Stores::open(plans).await?)
}

pub fn run(cmd: OpsCmd) -> Result<ExitCode> {
    let rt = runtime()?;
    rt.block_on(run_async(cmd))
}

async fn run_async(cmd: OpsCmd) -> Result<ExitCode> {
    match cmd {
        OpsCmd::Ingest { json } => {
            let stores = env_stores().await?;
            let path = cavra_store::spool::spool_path(|k| std::env::var(k).ok(), None);
            let report = cavra_store::spool::ingest(&stores, &path).await?;
            stores.close().await?;
            if json {
                print_json(&report)?;
            } else {
                println!(
                    "{}: {} decisions ingested, {} rejected",
                    path.display(),
                    report.ingested,
                    report.rejected
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        OpsCmd::Stores { json } => {
            let stores = env_stores().await?;
            let status = stores.status().await?;
            if json {
                print_json(&status)?;
            } else {
                println!(
                    "{:<18} {:<9} {:<7} {:>10}  {:<26} PATH",
                    "STORE", "KIND", "EXISTS", "BYTES", "CONFIGURED BY"
                );
                for s in &status {
                    println!(
                        "{:<18} {:<9} {:<7} {:>10}  {:<26} {}",
                        s.name,
                        s.kind,
                        if s.exists { "yes" } else { "no" },
                        s.size_bytes,
                        s.configured_by,
                        s.path
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        OpsCmd::Backup {
            output,
            include_missing,
            json,
        } => {
            let stores = env_stores().await?;
            let mut bar = Bar::new();
            let manifest = ops::backup(&stores, &output, include_missing, &mut |w, d, t| {
                bar.update(w, d, t)
            })
            .await?;
            bar.finish();
            if json {
                print_json(&manifest)?;
            } else {
                let copied = manifest
                    .stores
                    .iter()
                    .filter(|s| s.sha256.is_some())
                    .count();
                println!(
                    "backed up {copied} of {} stores to {}",
                    manifest.stores.len(),
                    output.join("manifest.json").display()
                );
                for s in &manifest.stores {
                    match &s.sha256 {
                        Some(h) => println!("  {:<18} {:<8} sha256:{h}", s.name, s.kind),
                        None => {
                            println!("  {:<18} {:<8} (does not exist; skipped)", s.name, s.kind)
                        }
                    }
                }
            }
            stores.close().await?;
            Ok(ExitCode::SUCCESS)
        }
        OpsCmd::Restore {
            manifest,
            target_dir,
            overwrite,
            json,
        } => {
            // PostgreSQL entries load into the configured database, if any.
            let stores = match std::env::var("CAVRA_DATABASE_URL") {
                Ok(v) if !v.trim().is_empty() => Some(env_stores().await?),
                _ => None,
            };
            let mut bar = Bar::new();
            let items = ops::restore(
                &manifest,
                target_dir.as_deref(),
                overwrite,
                stores.as_ref(),
                &mut |w, d, t| bar.update(w, d, t),
            )
            .await?;
            bar.finish();
            if json {
                print_json(&items)?;
            } else {
                for i in &items {
                    println!("{:<18} {:<17} {}", i.name, i.action, i.target);
                }
                let skipped = items
                    .iter()
                    .filter(|i| i.action == "skipped_existing")
                    .count();
                if skipped > 0 {
                    println!(
                        "{skipped} existing store(s) left as they were; pass --overwrite to replace them"
                    );
                }
            }
            if let Some(s) = stores {
                s.close().await?;
            }
            Ok(ExitCode::SUCCESS)
        }
        OpsCmd::RetentionPlan {
            retention_days,
            classification,
            legal_hold,
        } => {
            let stores = env_stores().await?;
            let plan =
                ops::retention_plan(&stores, retention_days, &classification, legal_hold).await?;
            print_json(&plan)?;
            Ok(ExitCode::SUCCESS)
        }
        OpsCmd::Migrate { from, to, json } => {
            let source = match &from {
                Some(spec) => {
                    let locs = parse_spec(spec)?;
                    Stores::open(plan_at(&locs, "--from")).await?
                }
                None => env_stores().await?,
            };
            let target_locs = parse_spec(&to)?;
            let same = source
                .plans()
                .iter()
                .any(|p| target_locs.get(&p.name) == Some(&p.location));
            if same {
                return Err(UsageError(format!(
                    "--to {to} is the same store as the source; nothing to migrate"
                ))
                .into());
            }
            let target = Stores::open(plan_at(&target_locs, "--to")).await?;
            let mut bar = Bar::new();
            let report = ops::migrate(&source, &target, &mut |w, d, t| bar.update(w, d, t)).await?;
            bar.finish();
            if json {
                print_json(&report)?;
            } else {
                for (kind, n) in &report.copied {
                    println!("{kind:<16} {n:>9} copied");
                }
                println!("migrated to {to}");
            }
            source.close().await?;
            target.close().await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
