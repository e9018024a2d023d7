//! `factually mcp`: the check engine as a Model Context Protocol server on standard input and
//! output, for desktop assistants (the tools are `factually_mcp`'s; `serve --mcp` offers the
//! same over HTTP). Standard output belongs to the protocol: progress and logs go to standard
//! error.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use rmcp::ServiceExt;

use crate::check_cmd::PipelineArgs;
use crate::runtime::Context;
use crate::CmdResult;

#[derive(Args, Debug)]
pub struct McpArgs {
    /// Checks and verifications run at once; more wait their turn.
    #[arg(long, default_value_t = 2, value_name = "N")]
    concurrent: usize,
    #[command(flatten)]
    pipeline: PipelineArgs,
}

pub fn run(ctx: &Context, args: McpArgs) -> CmdResult {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let session = args
        .pipeline
        .session(ctx, false, Some(runtime.handle().clone()))?;
    // The default knowledge base is built (once) before the first request, not during it.
    session.prepare()?;
    let server = factually_mcp::Factually::new(Arc::new(session), args.concurrent.min(64));
    runtime.block_on(async {
        let running = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|e| anyhow::anyhow!("starting the MCP server: {e}"))?;
        running
            .waiting()
            .await
            .map_err(|e| anyhow::anyhow!("the MCP server: {e}"))
    })?;
    Ok(ExitCode::SUCCESS)
}
