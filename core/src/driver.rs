//! The synchronous driver: the one loop that runs an operation against an executor.

use crate::command::{Command, Reply};
use crate::engine::Engine;
use crate::error::{Error, ExecutorError};
use crate::ops::{Operation, Step};

/// Anything that answers commands synchronously.
pub trait Executor {
    /// Runs one command. An `Err` means no reply was obtained (the server could not be
    /// reached, or the outcome of a write is unknown).
    fn execute(&mut self, command: &Command) -> Result<Reply, ExecutorError>;

    /// Runs one command the caller no longer needs, with the same outcome as
    /// [`execute`](Self::execute). An executor may consume it to avoid copies (the
    /// in-memory [`Engine`] moves the documents it stores out of the command); the default
    /// just borrows it.
    fn execute_owned(&mut self, command: Command) -> Result<Reply, ExecutorError> {
        self.execute(&command)
    }
}

impl Executor for Engine {
    fn execute(&mut self, command: &Command) -> Result<Reply, ExecutorError> {
        Ok(Engine::execute(self, command))
    }

    fn execute_owned(&mut self, command: Command) -> Result<Reply, ExecutorError> {
        Ok(Engine::execute_owned(self, command))
    }
}

impl<E: Executor + ?Sized> Executor for &mut E {
    fn execute(&mut self, command: &Command) -> Result<Reply, ExecutorError> {
        (**self).execute(command)
    }

    fn execute_owned(&mut self, command: Command) -> Result<Reply, ExecutorError> {
        (**self).execute_owned(command)
    }
}

/// One command of an operation, as a log sees it.
#[derive(Debug)]
pub struct Exchange<'a> {
    /// What the operation was doing when it sent the command.
    pub step: &'static str,
    /// The command.
    pub command: &'a Command,
    /// The reply, or why there was none.
    pub reply: &'a Result<Reply, ExecutorError>,
}

/// Runs `op` to completion. Each command is handed to the executor by value
/// ([`Executor::execute_owned`]).
///
/// ```
/// use streamdoc_core::{driver, Engine, ReadRange, SeededIds, SteppingClock, StoreConfig, StoreContext};
///
/// let ctx = StoreContext::new(StoreConfig::new("app"), SteppingClock::new(0, 1), SeededIds::new(0)).unwrap();
/// let mut engine = Engine::new(0);
/// let read = driver::run(&mut ctx.read("order:1", ReadRange::all()).unwrap(), &mut engine).unwrap();
/// assert!(!read.stream_exists);
/// ```
pub fn run<O: Operation + ?Sized>(op: &mut O, executor: &mut impl Executor) -> Result<O::Output, Error> {
    loop {
        match op.next() {
            Step::Done(result) => return result,
            Step::Send(command) => {
                let reply = executor.execute_owned(command);
                op.feed(reply?);
            }
        }
    }
}

/// Runs `op` to completion, showing every command and reply to `log`.
pub fn run_logged<O: Operation + ?Sized>(
    op: &mut O,
    executor: &mut impl Executor,
    mut log: impl FnMut(&Exchange<'_>),
) -> Result<O::Output, Error> {
    loop {
        match op.next() {
            Step::Done(result) => return result,
            Step::Send(command) => {
                let step = op.describe_step();
                let reply = executor.execute(&command);
                log(&Exchange { step, command: &command, reply: &reply });
                op.feed(reply?);
            }
        }
    }
}
