//! `factually worker`: runs checks from the shared queue, without serving anything. Start any
//! number of them, on any hosts, next to a `factually serve --workers 0` (or a serve with its
//! own workers) on the same database.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use factually_web::metrics::Metrics;
use factually_web::{Wake, Workers};

use crate::check_cmd::PipelineArgs;
use crate::runtime::Context;
use crate::serve_cmd::{start, stop_signal, QueueArgs, Started};
use crate::CmdResult;

#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// Checks run at once by this process.
    #[arg(long, default_value_t = 1, value_name = "N")]
    workers: usize,
    #[command(flatten)]
    queue: QueueArgs,
    #[command(flatten)]
    pipeline: PipelineArgs,
}

pub fn run_worker(ctx: Context, args: WorkerArgs) -> CmdResult {
    let Started {
        runtime,
        store,
        database,
        session,
    } = start(&ctx, &args.queue, &args.pipeline)?;
    let count = args.workers.clamp(1, 64);
    let pool = factually_web::start_workers(
        Workers {
            store,
            engine: Arc::new(session),
            wake: Arc::new(Wake::default()),
            metrics: Arc::new(Metrics::default()),
            // No site in this process: pages and event streams read the database.
            changed: Arc::new(|_: &str| {}),
        },
        count,
        runtime.handle().clone(),
    );
    eprintln!("factually: worker running {count} check(s) at a time from database {database}");
    runtime.block_on(stop_signal());
    eprintln!(
        "factually: stopping: no new checks; {} running may take up to {}s to finish",
        pool.running(),
        args.queue.drain().as_secs()
    );
    let drained = pool.drain(args.queue.drain());
    eprintln!(
        "factually: stopped: {} running check(s) finished, {} handed back to the queue",
        drained.finished, drained.handed_back
    );
    Ok(ExitCode::SUCCESS)
}
