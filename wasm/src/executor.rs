//! The JavaScript executor and the asynchronous driver loop.
//!
//! A JavaScript executor is a function `(command) => reply | Promise<reply>`. The loop
//! below is core's `driver::run_logged` for that calling convention: the same op, its
//! commands sent to the executor and awaited with `wasm-bindgen-futures`' `JsFuture`.
//!
//! The futures are polled by [`Task`], from JavaScript (`drive` in `js/runtime.js`):
//! every poll is a synchronous call made under try/catch, so a panic rejects the
//! caller's promise as an `InternalError` instead of escaping into the microtask
//! queue as `RuntimeError: unreachable`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use js_sys::{Function, Promise};
use send_wrapper::SendWrapper;
use streamdoc_core::ops::{Operation, Step};
use streamdoc_core::{Command, ExecutorError, Reply};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::error::{self, Guard};
use crate::wire;

#[wasm_bindgen(module = "/js/runtime.js")]
extern "C" {
    fn drive(task: Task) -> Promise;
}

type TaskFuture = Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>;

/// A future polled from JavaScript. Internal: not part of the published types.
#[wasm_bindgen(skip_typescript)]
pub struct Task {
    /// The guard of the object that started the task: each poll is a call on it.
    guard: Guard,
    future: RefCell<Option<TaskFuture>>,
    output: RefCell<Option<Result<JsValue, JsValue>>>,
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task").field("finished", &self.future.borrow().is_none()).finish()
    }
}

/// Calls the JavaScript `wake` function of a [`Task`].
struct JsWaker(SendWrapper<Function>);

impl Wake for JsWaker {
    fn wake(self: Arc<Self>) {
        let _ = self.0.call0(&JsValue::NULL);
    }
}

#[wasm_bindgen]
impl Task {
    /// Polls the future once; true when it has finished (then call `output`).
    #[wasm_bindgen(skip_typescript)]
    pub fn poll(&self, wake: Function) -> Result<bool, JsValue> {
        let _call = error::enter(&self.guard)?;
        let mut slot = self.future.borrow_mut();
        let Some(future) = slot.as_mut() else { return Ok(true) };
        let waker = Waker::from(Arc::new(JsWaker(SendWrapper::new(wake))));
        match future.as_mut().poll(&mut Context::from_waker(&waker)) {
            Poll::Pending => Ok(false),
            Poll::Ready(result) => {
                *slot = None;
                *self.output.borrow_mut() = Some(result);
                Ok(true)
            }
        }
    }

    /// The value of a finished task; throws its error.
    #[wasm_bindgen(skip_typescript)]
    pub fn output(&self) -> Result<JsValue, JsValue> {
        self.output.borrow_mut().take().unwrap_or_else(|| Err(error::internal("a task's output was taken twice")))
    }
}

/// Runs `future`, a call on the object of `guard`, to completion; the promise settles
/// with its result.
pub fn spawn(guard: Guard, future: impl Future<Output = Result<JsValue, JsValue>> + 'static) -> Promise {
    drive(Task { guard, future: RefCell::new(Some(Box::pin(future))), output: RefCell::new(None) })
}

/// `(command) => reply | Promise<reply>`.
#[derive(Debug, Clone)]
pub struct JsExecutor(pub Function);

impl JsExecutor {
    /// Sends `command`; an exception, a rejection or a malformed reply is "no reply"
    /// (for a write, the outcome is unknown), with what was thrown kept as the cause.
    pub(crate) async fn execute(&self, command: &Command) -> Result<Reply, (ExecutorError, Option<JsValue>)> {
        let outcome_unknown =
            matches!(command, Command::UpdateOne { .. } | Command::InsertOne { .. } | Command::DeleteOne { .. });
        let failed = |message: String, cause: Option<JsValue>| (ExecutorError { message, outcome_unknown }, cause);
        let returned = self
            .0
            .call1(&JsValue::NULL, &wire::command_to_js(command))
            .map_err(|e| failed(format!("the executor threw: {}", describe(&e)), Some(e)))?;
        let value = JsFuture::from(Promise::resolve(&returned))
            .await
            .map_err(|e| failed(format!("the executor's promise rejected: {}", describe(&e)), Some(e)))?;
        wire::reply_from_js(&value).map_err(|e| failed(format!("the executor returned an invalid reply: {e}"), None))
    }
}

/// What was thrown, for a message: an `Error`'s message, a string, or its debug form.
pub(crate) fn describe(e: &JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(err) => String::from(err.message()),
        None => e.as_string().unwrap_or_else(|| format!("{e:?}")),
    }
}

/// One command of the log: what the op was doing, the command and the reply, both in
/// mongosh syntax.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub step: &'static str,
    pub command: String,
    pub reply: String,
}

/// The last `capacity` commands a store sent (nothing when `capacity` is 0).
#[derive(Debug)]
pub struct CommandLog {
    capacity: usize,
    entries: RefCell<VecDeque<LogEntry>>,
}

impl CommandLog {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { capacity, entries: RefCell::new(VecDeque::new()) }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.capacity > 0
    }

    pub(crate) fn record(&self, step: &'static str, command: &Command, reply: Result<&Reply, &ExecutorError>) {
        if !self.enabled() {
            return;
        }
        let reply = match reply {
            Ok(r) => r.to_mongosh(),
            Err(e) => format!("no reply: {e}"),
        };
        let mut entries = self.entries.borrow_mut();
        if entries.len() == self.capacity {
            entries.pop_front();
        }
        entries.push_back(LogEntry { step, command: command.to_mongosh(), reply });
    }

    pub(crate) fn entries(&self) -> Vec<LogEntry> {
        self.entries.borrow().iter().cloned().collect()
    }
}

/// Runs `op` to completion against a JavaScript executor: `driver::run_logged`, awaited.
pub async fn run<O: Operation>(op: &mut O, executor: &JsExecutor, log: &CommandLog) -> Result<O::Output, JsValue> {
    loop {
        match op.next() {
            Step::Done(result) => return result.map_err(|e| error::to_js(&e)),
            Step::Send(command) => {
                let step = op.describe_step();
                match executor.execute(&command).await {
                    Ok(reply) => {
                        log.record(step, &command, Ok(&reply));
                        op.feed(reply);
                    }
                    Err((failure, cause)) => {
                        log.record(step, &command, Err(&failure));
                        return Err(error::unavailable(failure, cause));
                    }
                }
            }
        }
    }
}
