//! Running third-party parsers on untrusted input without letting them crash or hang us.

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

/// Stack for parser threads: documents are parsed recursively, and a stack overflow,
/// unlike a panic, cannot be contained.
const STACK_BYTES: usize = 64 * 1024 * 1024;

/// Why an isolated run gave no result.
#[derive(Debug)]
pub(crate) enum Isolation {
    /// The work panicked (the panic was contained).
    Panicked,
    /// The work did not finish in time: its thread is left to end in the background, its
    /// child process is killed.
    TimedOut,
    /// No thread could be started, or it ended without a result.
    Failed(std::io::Error),
}

/// Runs `work` on its own thread with panics caught, waiting at most `timeout`.
pub(crate) fn run_isolated<T: Send + 'static>(
    name: &str,
    timeout: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Isolation> {
    let (sender, receiver) = mpsc::channel();
    thread::Builder::new()
        .name(name.to_string())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            let result = panic::catch_unwind(AssertUnwindSafe(work));
            // The receiver is gone when the caller timed out; nobody wants the result then.
            let _ = sender.send(result);
        })
        .map_err(Isolation::Failed)?;
    match receiver.recv_timeout(timeout) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) => Err(Isolation::Panicked),
        Err(RecvTimeoutError::Timeout) => Err(Isolation::TimedOut),
        Err(RecvTimeoutError::Disconnected) => Err(Isolation::Failed(std::io::Error::other(
            "the worker thread stopped without a result",
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_panics_and_hangs_are_told_apart() {
        assert!(matches!(
            run_isolated("ok", Duration::from_secs(5), || 42),
            Ok(42)
        ));
        let panicked = run_isolated("boom", Duration::from_secs(5), || -> u8 {
            panic!("parser bug")
        });
        assert!(matches!(panicked, Err(Isolation::Panicked)));
        let hung = run_isolated("slow", Duration::from_millis(50), || {
            thread::sleep(Duration::from_secs(2))
        });
        assert!(matches!(hung, Err(Isolation::TimedOut)));
    }
}
