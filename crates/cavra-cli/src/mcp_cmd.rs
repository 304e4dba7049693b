//! `cavra mcp serve | proxy | pins`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use cavra_agent::mcp::{pins, proxy, server};
use clap::Subcommand;

use crate::{DEFAULT_PACK, PackArgs, UsageError, load_agent_pack};

#[derive(Subcommand)]
pub enum McpCmd {
    /// Run CAVRA as a stdio MCP server (evaluate, explain, packs, sessions, PR attestation)
    Serve {
        /// The pack used when a tool call names none
        #[arg(long, default_value = DEFAULT_PACK)]
        policy_pack: String,
    },
    /// Govern another stdio MCP server: cavra mcp proxy [--policy-pack ID] -- <server command…>
    Proxy {
        #[command(flatten)]
        pack: PackArgs,
        /// The server's name in policy (default: the command's basename)
        #[arg(long)]
        server: Option<String>,
        /// Seconds a tools/call may take upstream
        #[arg(long, default_value_t = 60)]
        timeout: u64,
        #[arg(long, default_value = "mcp-proxy")]
        session_id: String,
        /// The server command and its arguments
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
        command: Vec<String>,
    },
    /// Tool pins (CAVRA_MCP_PINS, default .cavra/mcp-pins.json)
    #[command(subcommand)]
    Pins(PinsCmd),
}

#[derive(Subcommand)]
pub enum PinsCmd {
    /// Show pinned and pending tool definitions
    List {
        #[arg(long)]
        json: bool,
    },
    /// Approve pending (changed or new) tool definitions
    Approve {
        #[arg(long)]
        server: Option<String>,
        #[arg(long)]
        tool: Option<String>,
        /// Only the pending definition with this hash (at least 12 hex
        /// digits of what `pins list` shows): a definition that changed
        /// again after review stays pending
        #[arg(long)]
        hash: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

fn pins_file() -> PathBuf {
    pins::pins_path(|k| std::env::var(k).ok())
}

fn spool() -> Option<PathBuf> {
    let base = std::env::current_dir().ok();
    Some(cavra_store::spool::spool_path(
        |k| std::env::var(k).ok(),
        base.as_deref(),
    ))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

pub fn run(cmd: McpCmd) -> Result<ExitCode> {
    match cmd {
        McpCmd::Serve { policy_pack } => {
            // A default pack that does not load is a usage error now, not a
            // server whose every call then fails.
            load_agent_pack(&PackArgs {
                policy_pack: Some(policy_pack.clone()),
                policy: None,
            })
            .map_err(|e| UsageError(format!("--policy-pack {policy_pack}: {e:#}")))?;
            let source = Arc::new(cavra_packs::agent_source());
            let srv = server::CavraServer::new(
                server::ServeConfig {
                    default_pack: policy_pack,
                    spool: spool(),
                },
                source,
            );
            runtime()?.block_on(async move {
                use rmcp::ServiceExt;
                let running = srv
                    .serve(rmcp::transport::stdio())
                    .await
                    .map_err(|e| anyhow::anyhow!("MCP handshake failed: {e}"))?;
                let _ = running.waiting().await;
                anyhow::Ok(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        McpCmd::Proxy {
            pack,
            server,
            timeout,
            session_id,
            command,
        } => {
            let policy = load_agent_pack(&pack)?;
            let prog = command
                .first()
                .ok_or_else(|| UsageError("no MCP server command given after --".into()))?;
            let server = server.unwrap_or_else(|| cavra_shell::basename(prog).to_string());
            let cfg = proxy::ProxyConfig {
                server,
                pins: pins_file(),
                spool: spool(),
                session_id,
                call_timeout: Duration::from_secs(timeout.max(1)),
            };
            runtime()?.block_on(async move {
                use rmcp::ServiceExt;
                let (p, upstream) = proxy::connect(policy, cfg, &command)
                    .await
                    .map_err(anyhow::Error::msg)?;
                let running = p
                    .serve(rmcp::transport::stdio())
                    .await
                    .map_err(|e| anyhow::anyhow!("MCP handshake with the client failed: {e}"))?;
                let _ = running.waiting().await;
                let _ = upstream.cancel().await;
                anyhow::Ok(())
            })?;
            Ok(ExitCode::SUCCESS)
        }
        McpCmd::Pins(PinsCmd::List { json }) => {
            let path = pins_file();
            let file = pins::load(&path).map_err(UsageError)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&file)?);
            } else {
                println!("{}", path.display());
                for (server, sp) in &file.servers {
                    for (tool, pin) in &sp.tools {
                        match sp.pending.get(tool) {
                            Some(p) => println!(
                                "PENDING  {server}:{tool} {} ({}; pinned {})",
                                p.hash, p.reason, pin.hash
                            ),
                            None => println!("pinned   {server}:{tool} {}", pin.hash),
                        }
                    }
                    for (tool, p) in &sp.pending {
                        if !sp.tools.contains_key(tool) {
                            println!("PENDING  {server}:{tool} {} ({})", p.hash, p.reason);
                        }
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        McpCmd::Pins(PinsCmd::Approve {
            server,
            tool,
            hash,
            json,
        }) => {
            let path = pins_file();
            let approved =
                pins::approve_hash(&path, server.as_deref(), tool.as_deref(), hash.as_deref())
                    .map_err(UsageError)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&approved)?);
            } else if approved.is_empty() {
                match &hash {
                    Some(h) => println!(
                        "no pending definition with hash {h} in {} (it may have changed again; `cavra mcp pins list` shows the pending hashes)",
                        path.display()
                    ),
                    None => println!("nothing pending to approve in {}", path.display()),
                }
            } else {
                for (s, t) in &approved {
                    println!("approved {s}:{t}");
                }
            }
            Ok(if approved.is_empty() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
    }
}
