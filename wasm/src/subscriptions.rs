//! `store.subscribe(options, handler)`: core's subscription machine
//! (`streamdoc_core::subscription`), driven in JavaScript.
//!
//! Every decision (which streams have news, what to read, which events a batch holds,
//! when and how a checkpoint moves) is the machine's. This module only executes what it
//! asks: its commands on the store's engine or JavaScript executor, its batches handed to
//! the handler (awaited: one batch at a time), its change stream opened on the engine's
//! change feed, and, between rounds, a wait of `pollIntervalMs`.
//!
//! A *round* is core's `run_until_idle`, awaited: the machine runs until it reports
//! `Idle` (polling) or until its change stream has nothing more (change stream).
//! `catchUp()` asks for one round that starts after the call and resolves with the
//! batches it delivered; `stop()` lets the batch in hand finish (its checkpoint moved),
//! then ends the loop.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};

use js_sys::{Array, Function, Object, Promise};
use streamdoc_core::subscription::{Batch, FeedWatch, Source, Subscription, SubscriptionConfig, SubscriptionError};
use streamdoc_core::{Command, Error, Reply};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::error::{self, Guard};
use crate::executor;
use crate::js::{check_options, get, is_absent, json_to_js, optional_string, optional_u64, set, type_error};
use crate::ops;
use crate::store::{Backend, Inner};
use crate::values::Values;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(message: &str);
}

/// The default wait between rounds, in milliseconds.
const DEFAULT_POLL_INTERVAL_MS: u64 = 100;
/// The options `subscribe` takes.
const OPTIONS: [&str; 11] = [
    "consumer",
    "streamType",
    "source",
    "batchSize",
    "pageSize",
    "pollIntervalMs",
    "lookbackMs",
    "sweepEvery",
    "checkpoints",
    "manual",
    "onHistoryLost",
];
/// The step name of the subscription's commands in the command log.
const LOG_STEP: &str = "subscription";

#[wasm_bindgen(typescript_custom_section)]
const SUBSCRIPTION_TYPES: &'static str = r#"
/** Options of `store.subscribe(options, handler)`. */
export interface SubscribeOptions {
  /** The consumer's name: its checkpoints are its own; two subscriptions with one name share them. */
  consumer: string;
  /** Only streams of this type (required unless the store keeps every stream in one collection). */
  streamType?: string;
  /**
   * Where new events are learnt of. `"auto"` (default): the change stream of the
   * in-memory engine, polling over `options.executor`. `"changeStream"` is refused over
   * an executor (a `SubscriptionError`, reason `changeStreamsUnsupported`): the executor
   * interface has no watch.
   */
  source?: "auto" | "changeStream" | "polling";
  /** At most this many events in one batch (one stream's, in order). Default 100. */
  batchSize?: number;
  /** At most this many stream heads per polling page. Default 100. */
  pageSize?: number;
  /** The wait between rounds (polls, or pulls of the change stream), in milliseconds. Default 100. */
  pollIntervalMs?: number;
  /** How far before the newest `updatedAt` seen an incremental poll looks again (clock skew tolerated). Default 5000. */
  lookbackMs?: number;
  /** Every this many polls, one sweeps every stream. Default 60. */
  sweepEvery?: number;
  /** The collection of checkpoints, in the store's database. Default `"streamdoc_checkpoints"`. */
  checkpoints?: string;
  /** `true`: nothing runs by itself (no timers); every round is a `catchUp()`. Default `false`. */
  manual?: boolean;
  /**
   * When the change stream cannot resume (its resume point is gone): `"catchUp"`
   * (default, as the host's subscriber) warns, opens a new change stream and sweeps every
   * stream past its checkpoint (exact); `"fail"` stops with a `SubscriptionError`
   * (reason `historyLost`).
   */
  onHistoryLost?: "catchUp" | "fail";
}

/** Events of one stream, in order, right after the consumer's checkpoint of it. */
export interface Batch<E extends RecordedEvent = RecordedEvent> {
  stream: string;
  /** The checkpoint the batch follows: its first event is at `after + 1n`. */
  after: bigint;
  /** The events (as `readStream` returns them), at positions `after + 1n ..= after + events.length`. */
  events: E[];
}

/** What a subscription has done (core's `SubscriptionStats`). */
export interface SubscriptionStats {
  /** Polls started (sweeps included). */
  polls: number;
  /** Polls that swept every stream. */
  sweeps: number;
  /** Change events received. */
  notices: number;
  /** Change events whose stream had to be looked up by `_id`. */
  lookups: number;
  /** Batches delivered. */
  batches: number;
  /** Events delivered. */
  events: number;
  /** Batches delivered straight from a change event, without reading the stream. */
  carried: number;
  /** Checkpoint writes another instance of the consumer won. */
  conflicts: number;
}

/**
 * A running subscription (`store.subscribe`). At least once, in order within each
 * stream: a batch is acknowledged (its checkpoint moved) only when the handler's
 * returned value has settled; if the handler throws or rejects, the subscription stops
 * with that error and the checkpoint stays, so the batch is delivered again to the next
 * subscription of the consumer.
 */
export class Subscription {
  private constructor();
  /** The consumer. */
  readonly consumer: string;
  /** The source it runs on, once resolved: `"changeStream"` or `"polling"`. */
  readonly source: "changeStream" | "polling";
  /** Lets the batch in hand finish (its checkpoint moved), then stops; resolves when stopped. */
  stop(): Promise<void>;
  /** Runs one round, started after this call, until idle; resolves with the number of batches it delivered. */
  catchUp(): Promise<number>;
  /** What it has done so far. */
  stats(): SubscriptionStats;
  /** Resolves when stopped; rejects with the error the subscription failed with (what the handler threw, or a typed error). */
  readonly done: Promise<void>;
  free(): void;
}
"#;

/// What `subscribe` was asked for.
#[derive(Debug)]
pub(crate) struct SubscribeOptions {
    config: SubscriptionConfig,
    poll_interval_ms: f64,
    manual: bool,
    /// `onHistoryLost: "catchUp"`.
    catch_up: bool,
}

fn small(options: &JsValue, key: &str) -> Result<Option<u32>, JsValue> {
    optional_u64(options, key, "subscribe options")?
        .map(|n| u32::try_from(n).map_err(|_| type_error(format!("subscribe options.{key} is too large"))))
        .transpose()
}

/// Reads `subscribe`'s options; an unknown key or a value of the wrong type is a
/// `TypeError`; what core refuses (an empty consumer, a zero size) is its
/// `SubscriptionError`, when the subscription is made.
pub(crate) fn subscribe_options(options: &JsValue) -> Result<SubscribeOptions, JsValue> {
    if is_absent(options) {
        return Err(type_error("subscribe needs options with a `consumer`"));
    }
    check_options(options, &OPTIONS, "subscribe options")?;
    let consumer = get(options, "consumer")
        .as_string()
        .ok_or_else(|| type_error("subscribe options.consumer must be a string"))?;
    let mut config = SubscriptionConfig::new(consumer);
    config.stream_type = optional_string(options, "streamType", "subscribe options")?;
    config.source = match optional_string(options, "source", "subscribe options")?.as_deref() {
        None | Some("auto") => Source::Auto,
        Some("changeStream") => Source::ChangeStream,
        Some("polling") => Source::Polling,
        Some(other) => {
            return Err(type_error(format!(
                "subscribe options.source must be \"auto\", \"changeStream\" or \"polling\", not {other:?}"
            )))
        }
    };
    if let Some(n) = small(options, "batchSize")? {
        config.batch_size = n;
    }
    if let Some(n) = small(options, "pageSize")? {
        config.page_size = n;
    }
    if let Some(n) = small(options, "sweepEvery")? {
        config.sweep_every = n;
    }
    if let Some(ms) = optional_u64(options, "lookbackMs", "subscribe options")? {
        config.lookback_ms = i64::try_from(ms).unwrap_or(i64::MAX);
    }
    if let Some(name) = optional_string(options, "checkpoints", "subscribe options")? {
        config.checkpoints = name;
    }
    let poll = optional_u64(options, "pollIntervalMs", "subscribe options")?.unwrap_or(DEFAULT_POLL_INTERVAL_MS);
    let manual = get(options, "manual");
    let manual = match is_absent(&manual) {
        true => false,
        false => manual.as_bool().ok_or_else(|| type_error("subscribe options.manual must be a boolean"))?,
    };
    let catch_up = match optional_string(options, "onHistoryLost", "subscribe options")?.as_deref() {
        None | Some("catchUp") => true,
        Some("fail") => false,
        Some(other) => {
            return Err(type_error(format!(
                "subscribe options.onHistoryLost must be \"catchUp\" or \"fail\", not {other:?}"
            )))
        }
    };
    Ok(SubscribeOptions { config, poll_interval_ms: poll as f64, manual, catch_up })
}

/// A promise's `resolve` and `reject`.
struct Resolvers {
    resolve: Function,
    reject: Function,
}

impl Resolvers {
    fn resolve(&self, value: &JsValue) {
        let _ = self.resolve.call1(&JsValue::NULL, value);
    }

    fn reject(&self, error: &JsValue) {
        let _ = self.reject.call1(&JsValue::NULL, error);
    }
}

/// A new promise and what settles it.
fn deferred() -> (Promise, Resolvers) {
    let mut slot = None;
    let promise = Promise::new(&mut |resolve, reject| slot = Some(Resolvers { resolve, reject }));
    let resolvers = slot.unwrap_or_else(|| {
        // The executor of `new Promise` runs at once; this is never reached.
        let noop = Function::new_no_args("");
        Resolvers { resolve: noop.clone(), reject: noop }
    });
    (promise, resolvers)
}

/// What the loop is asked to do, and who waits for it.
#[derive(Default)]
struct Control {
    /// `stop()` was called.
    stopping: bool,
    /// The loop has ended (stopped or failed).
    ended: bool,
    /// The error the subscription failed with.
    failure: Option<JsValue>,
    /// `catchUp()` calls waiting for the next round to start.
    waiting: Vec<Resolvers>,
    /// `stop()` calls waiting for the loop to end.
    stopping_waiters: Vec<Resolvers>,
    /// A round is due now (`catchUp`, `stop`, the timer).
    fired: bool,
    /// The loop's waker while it waits.
    waker: Option<Waker>,
}

/// One subscription: the machine, what runs its commands, the handler, the loop's control.
struct Shared {
    store: Rc<Inner>,
    sub: RefCell<Subscription>,
    /// The engine's change feed, once the machine asked to watch.
    watch: RefCell<Option<FeedWatch>>,
    handler: Function,
    values: Values,
    poll_interval_ms: f64,
    manual: bool,
    /// `onHistoryLost: "catchUp"`.
    catch_up: bool,
    control: RefCell<Control>,
    done: Resolvers,
    /// The timer's callback: fires the loop (a weak reference, so no cycle).
    timer_callback: RefCell<Option<Closure<dyn FnMut()>>>,
}

impl Shared {
    /// A round is due: wake the loop.
    fn fire(&self) {
        let waker = {
            let mut control = self.control.borrow_mut();
            control.fired = true;
            control.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The subscriptions of a store, so that `restore()` can tell them the engine changed.
#[derive(Default)]
pub(crate) struct Registry(RefCell<Vec<Weak<Shared>>>);

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").field("subscriptions", &self.0.borrow().len()).finish()
    }
}

impl Registry {
    fn register(&self, s: &Rc<Shared>) {
        let mut list = self.0.borrow_mut();
        list.retain(|w| w.strong_count() > 0);
        list.push(Rc::downgrade(s));
    }

    /// The store's engine was replaced (`restore()`): its change feed is another one, so
    /// each change-stream subscription does what core prescribes when a change stream
    /// cannot go on (`restart`: a new change stream from now, then one sweep of every
    /// stream past its checkpoint, which the restored engine holds).
    pub(crate) fn engine_replaced(&self) {
        for s in self.0.borrow().iter().filter_map(Weak::upgrade) {
            if s.sub.borrow().source() == Source::ChangeStream && s.watch.borrow_mut().take().is_some() {
                s.sub.borrow_mut().restart();
            }
        }
    }
}

/// Waits until [`Shared::fire`].
struct Fired(Rc<Shared>);

impl Future for Fired {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut control = self.0.control.borrow_mut();
        if control.fired {
            control.fired = false;
            Poll::Ready(())
        } else {
            control.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// How a round ended.
enum Ended {
    /// The machine is idle: `n` batches were delivered.
    Idle(u64),
    /// `stop()` was called: the batch in hand finished, `n` batches were delivered.
    Stopped(u64),
}

/// A batch as the handler receives it: `{ stream, after, events }`.
fn batch_to_js(batch: &Batch, values: Values) -> JsValue {
    let object = Object::new();
    set(&object, "stream", &JsValue::from_str(&batch.stream));
    set(&object, "after", &JsValue::from(batch.after));
    let events: Array = batch.events.iter().map(|e| ops::recorded_event(e, values)).collect();
    set(&object, "events", &events);
    object.into()
}

/// Runs one command of the machine where the store runs its own.
async fn execute(s: &Shared, command: Command) -> Result<Reply, JsValue> {
    match &s.store.backend {
        Backend::Engine(engine) => {
            let reply = engine.borrow_mut().execute(&command);
            s.store.log.record(LOG_STEP, &command, Ok(&reply));
            Ok(reply)
        }
        Backend::Js(js) => match js.execute(&command).await {
            Ok(reply) => {
                s.store.log.record(LOG_STEP, &command, Ok(&reply));
                Ok(reply)
            }
            Err((failure, cause)) => {
                s.store.log.record(LOG_STEP, &command, Err(&failure));
                Err(error::unavailable(failure, cause))
            }
        },
    }
}

/// Opens the change stream the machine asked for, on the engine's change feed (enabled
/// now if it was not: the machine sweeps every stream when it watches from now, so
/// nothing written before is missed).
fn open_watch(s: &Shared, ns: &streamdoc_core::Namespace, resume_after: Option<&bson::Document>) -> Result<(), Error> {
    let Backend::Engine(engine) = &s.store.backend else {
        return Err(SubscriptionError::ChangeStreamsUnsupported {
            message: "the store runs on options.executor, which has no watch".into(),
        }
        .into());
    };
    let feed = engine.borrow_mut().enable_change_feed(streamdoc_core::engine::change_feed::DEFAULT_CAPACITY);
    let mut watch = FeedWatch::new(feed);
    watch.open(&s.sub.borrow(), ns, resume_after)?;
    *s.watch.borrow_mut() = Some(watch);
    Ok(())
}

/// Hands a batch to the handler and waits for what it returned to settle.
async fn handle(s: &Shared, batch: &Batch) -> Result<(), JsValue> {
    let returned = s.handler.call1(&JsValue::NULL, &batch_to_js(batch, s.values))?;
    JsFuture::from(Promise::resolve(&returned)).await.map(|_| ())
}

/// The change stream failed: with `onHistoryLost: "catchUp"`, a lost history is
/// recovered as core prescribes (`restart`: a new change stream, then a sweep from the
/// checkpoints), as the host's subscriber does; any other failure ends the subscription.
fn watch_lost(s: &Shared, e: Error) -> Result<(), JsValue> {
    match e {
        Error::Subscription(SubscriptionError::HistoryLost { consumer, message }) if s.catch_up => {
            console_warn(&format!(
                "streamdoc: the change stream of {consumer:?} cannot resume ({message}); catching up from the checkpoints"
            ));
            *s.watch.borrow_mut() = None;
            s.sub.borrow_mut().restart();
            Ok(())
        }
        other => Err(error::to_js(&other)),
    }
}

/// One round: core's `run_until_idle`, with the commands and the handler awaited.
async fn round(s: &Shared) -> Result<Ended, JsValue> {
    use streamdoc_core::subscription::SubscriptionStep;
    let mut delivered = 0;
    // The checkpoint's advance of the batch in hand is the command being sent.
    let mut advancing = false;
    let fail = |e: Error| error::to_js(&e);
    loop {
        let step = s.sub.borrow_mut().next();
        match step {
            SubscriptionStep::Send(command) => {
                let reply = execute(s, command).await?;
                s.sub.borrow_mut().feed(reply);
                // Stop once the batch in hand has finished: handled, its checkpoint moved.
                if std::mem::take(&mut advancing) && s.control.borrow().stopping {
                    return Ok(Ended::Stopped(delivered));
                }
            }
            SubscriptionStep::Deliver(batch) => {
                handle(s, &batch).await?;
                s.sub.borrow_mut().ack().map_err(fail)?;
                delivered += 1;
                advancing = true;
            }
            SubscriptionStep::Watch { ns, resume_after } => {
                if let Err(e) = open_watch(s, &ns, resume_after.as_ref()) {
                    watch_lost(s, e)?;
                }
            }
            SubscriptionStep::Idle => {
                let pulled = match s.watch.borrow_mut().as_mut() {
                    None => return Ok(Ended::Idle(delivered)),
                    Some(watch) => watch.pull(&mut s.sub.borrow_mut()),
                };
                match pulled {
                    Ok(0) => return Ok(Ended::Idle(delivered)),
                    Ok(_) => {}
                    Err(e) => watch_lost(s, e)?,
                }
            }
            SubscriptionStep::Failed(e) => return Err(fail(e)),
        }
    }
}

/// The error of a call on a subscription that has ended.
fn ended_error(failure: Option<&JsValue>) -> JsValue {
    match failure {
        Some(f) => f.clone(),
        None => error::to_js(&Error::Misuse { message: "the subscription is stopped".into() }),
    }
}

/// Waits the poll interval, or until fired (`catchUp`, `stop`); in manual mode only the latter.
async fn wait(s: &Rc<Shared>) {
    let timer = match (s.manual, s.timer_callback.borrow().as_ref()) {
        (false, Some(callback)) => Some(set_timeout(callback.as_ref().unchecked_ref(), s.poll_interval_ms)),
        _ => None,
    };
    Fired(s.clone()).await;
    if let Some(timer) = timer {
        clear_timeout(&timer);
    }
}

/// The subscription's loop: rounds, with waits between them, until stopped or failed.
async fn run(s: Rc<Shared>) {
    let mut due = !s.manual;
    let outcome = loop {
        let pending = {
            let control = s.control.borrow();
            control.stopping || !control.waiting.is_empty()
        };
        if !due && !pending {
            wait(&s).await;
        }
        due = false;
        let waiters = {
            let mut control = s.control.borrow_mut();
            if control.stopping {
                break Ok(());
            }
            control.fired = false;
            std::mem::take(&mut control.waiting)
        };
        match round(&s).await {
            Ok(ended) => {
                let (n, stopped) = match ended {
                    Ended::Idle(n) => (n, false),
                    Ended::Stopped(n) => (n, true),
                };
                waiters.iter().for_each(|w| w.resolve(&JsValue::from_f64(n as f64)));
                if stopped {
                    break Ok(());
                }
            }
            Err(e) => {
                waiters.iter().for_each(|w| w.reject(&e));
                break Err(e);
            }
        }
    };
    let (waiting, stoppers) = {
        let mut control = s.control.borrow_mut();
        control.ended = true;
        if let Err(e) = &outcome {
            control.failure = Some(e.clone());
        }
        (std::mem::take(&mut control.waiting), std::mem::take(&mut control.stopping_waiters))
    };
    let failure = outcome.as_ref().err();
    waiting.iter().for_each(|w| w.reject(&ended_error(failure)));
    stoppers.iter().for_each(|w| w.resolve(&JsValue::UNDEFINED));
    match failure {
        Some(e) => s.done.reject(e),
        None => s.done.resolve(&JsValue::UNDEFINED),
    }
    // The timer's callback is no longer needed.
    s.timer_callback.borrow_mut().take();
}

/// The JavaScript `Subscription` (types in `SUBSCRIPTION_TYPES`).
#[wasm_bindgen(js_name = Subscription, skip_typescript)]
pub struct JsSubscription {
    shared: Rc<Shared>,
    done: Promise,
    guard: Guard,
}

impl std::fmt::Debug for JsSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").field("machine", &self.shared.sub.borrow()).finish_non_exhaustive()
    }
}

/// `store.subscribe(options, handler)`: makes core's machine (which refuses what it
/// cannot run), resolves the source for the store's backend, and starts the loop.
pub(crate) fn subscribe(store: Rc<Inner>, options: &JsValue, handler: JsValue) -> Result<JsSubscription, JsValue> {
    let handler: Function =
        handler.dyn_into().map_err(|_| type_error("subscribe: the handler must be a function of a batch"))?;
    let SubscribeOptions { mut config, poll_interval_ms, manual, catch_up } = subscribe_options(options)?;
    let on_engine = matches!(store.backend, Backend::Engine(_));
    if !on_engine && config.source == Source::ChangeStream {
        let message = "this store runs on options.executor, and an executor runs commands only (it has no watch): \
                       subscribe with source \"polling\" or \"auto\"";
        return Err(error::to_js(&SubscriptionError::ChangeStreamsUnsupported { message: message.into() }.into()));
    }
    config.source = config.source.resolve(on_engine);
    let sub = Subscription::new(&store.ctx.borrow(), config).map_err(|e| error::to_js(&e))?;
    let (done, done_resolvers) = deferred();
    // `done` never becomes an unhandled rejection: a failure is also what `catchUp` and
    // the next `subscribe` see; await `done` to learn of it.
    let ignore = Closure::<dyn FnMut(JsValue)>::new(|_: JsValue| {});
    let _ = done.catch(&ignore);
    ignore.forget();
    let guard = store.guard.clone();
    let shared = Rc::new(Shared {
        values: store.values,
        store,
        sub: RefCell::new(sub),
        watch: RefCell::new(None),
        handler,
        poll_interval_ms,
        manual,
        catch_up,
        control: RefCell::new(Control::default()),
        done: done_resolvers,
        timer_callback: RefCell::new(None),
    });
    shared.store.subscriptions.register(&shared);
    let weak: Weak<Shared> = Rc::downgrade(&shared);
    *shared.timer_callback.borrow_mut() = Some(Closure::new(move || {
        if let Some(s) = weak.upgrade() {
            s.fire();
        }
    }));
    let task = executor::spawn(guard.clone(), {
        let shared = shared.clone();
        async move {
            run(shared).await;
            Ok(JsValue::UNDEFINED)
        }
    });
    // A panic in the loop (an InternalError) fails the subscription.
    let failed = Rc::downgrade(&shared);
    let on_panic = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        if let Some(s) = failed.upgrade() {
            s.control.borrow_mut().ended = true;
            s.done.reject(&e);
        }
    });
    let _ = task.catch(&on_panic);
    on_panic.forget();
    Ok(JsSubscription { shared, done, guard })
}

#[wasm_bindgen(js_class = Subscription)]
impl JsSubscription {
    #[wasm_bindgen(getter)]
    pub fn consumer(&self) -> Result<String, JsValue> {
        let _call = error::enter(&self.guard)?;
        Ok(self.shared.sub.borrow().consumer().to_owned())
    }

    #[wasm_bindgen(getter)]
    pub fn source(&self) -> Result<String, JsValue> {
        let _call = error::enter(&self.guard)?;
        Ok(match self.shared.sub.borrow().source() {
            Source::ChangeStream => "changeStream",
            _ => "polling",
        }
        .to_owned())
    }

    #[wasm_bindgen(getter)]
    pub fn done(&self) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.guard)?;
        Ok(self.done.clone())
    }

    pub fn stats(&self) -> Result<JsValue, JsValue> {
        let _call = error::enter(&self.guard)?;
        let stats = serde_json::to_value(self.shared.sub.borrow().stats())
            .map_err(|e| error::internal(&format!("the stats have no JSON form: {e}")))?;
        Ok(json_to_js(&stats))
    }

    #[wasm_bindgen(js_name = catchUp)]
    pub fn catch_up(&self) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.guard)?;
        let mut control = self.shared.control.borrow_mut();
        if control.ended || control.stopping {
            return Ok(Promise::reject(&ended_error(control.failure.as_ref())));
        }
        let (promise, resolvers) = deferred();
        control.waiting.push(resolvers);
        drop(control);
        self.shared.fire();
        Ok(promise)
    }

    pub fn stop(&self) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.guard)?;
        let mut control = self.shared.control.borrow_mut();
        if control.ended {
            return Ok(Promise::resolve(&JsValue::UNDEFINED));
        }
        control.stopping = true;
        let (promise, resolvers) = deferred();
        control.stopping_waiters.push(resolvers);
        drop(control);
        self.shared.fire();
        Ok(promise)
    }
}
