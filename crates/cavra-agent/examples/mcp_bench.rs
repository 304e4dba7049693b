//! MCP `tools/call` latency for `bench/hooks.sh`: connects to a stdio MCP
//! server command with rmcp, calls `read_file` RUNS times and prints one
//! JSON line with p50 and p99 in microseconds.
//!
//! `mcp_bench RUNS -- CMD…`
use std::time::Instant;

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;

fn pct(v: &mut [u128], p: f64) -> u128 {
    v.sort_unstable();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v.get(i).copied().unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(2000);
    let Some(sep) = args.iter().position(|a| a == "--") else {
        eprintln!("usage: mcp_bench RUNS -- CMD…");
        std::process::exit(2);
    };
    let cmd = args.get(sep + 1..).unwrap_or_default().to_vec();
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        std::process::exit(1);
    };
    let r = rt.block_on(async move {
        let (prog, rest) = cmd.split_first().ok_or("no command")?;
        let mut c = tokio::process::Command::new(prog);
        c.args(rest);
        let transport = rmcp::transport::TokioChildProcess::new(c).map_err(|e| e.to_string())?;
        let client = ().serve(transport).await.map_err(|e| e.to_string())?;
        let call = || {
            let mut p = CallToolRequestParams::new("read_file");
            p.arguments = serde_json::json!({"path": "README.md"})
                .as_object()
                .cloned();
            client.call_tool(p)
        };
        for _ in 0..50 {
            call().await.map_err(|e| e.to_string())?;
        }
        let mut t = Vec::with_capacity(runs);
        for _ in 0..runs {
            let s = Instant::now();
            let r = call().await.map_err(|e| e.to_string())?;
            if r.is_error == Some(true) {
                return Err(format!("call failed: {r:?}"));
            }
            t.push(s.elapsed().as_micros());
        }
        let _ = client.cancel().await;
        Ok::<_, String>((pct(&mut t, 0.5), pct(&mut t, 0.99)))
    });
    match r {
        Ok((p50, p99)) => println!("{{\"runs\":{runs},\"p50_us\":{p50},\"p99_us\":{p99}}}"),
        Err(e) => {
            eprintln!("mcp_bench: {e}");
            std::process::exit(1);
        }
    }
}
