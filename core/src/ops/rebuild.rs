//! Rebuilding read models from their streams' events: for a new projection, a new
//! schema version, or a read model written by hand.

use bson::{doc, Bson, Document};
use serde::{Deserialize, Serialize};

use crate::command::{codes, Command, Namespace, Reply};
use crate::error::Error;
use crate::layout::{
    document_position, position_to_bson, Layout, StoreConfig, STREAM_NAME, STREAM_POSITION_PATH, STREAM_TYPE_PATH,
};
use crate::name::StreamName;
use crate::ops::cache::StoreCache;
use crate::ops::fetch::stream_filter;
use crate::ops::outbox::{unexpected, Outbox};
use crate::ops::{Operation, Step};
use crate::projection::fold::Inline;
use crate::projection::InlineProjection;

/// What a rebuild of one stream did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RebuildResult {
    /// Whether the stream exists (nothing is written when it does not).
    pub stream_exists: bool,
    /// The position the read models were rebuilt at.
    pub stream_position: u64,
}

/// The projections a rebuild recomputes: `name`'s, or every one of the stream type.
fn chosen(config: &StoreConfig, stream_type: &str, name: Option<&str>) -> Result<Vec<InlineProjection>, Error> {
    let chosen: Vec<InlineProjection> =
        config.projections_for(stream_type).filter(|p| name.is_none_or(|n| p.name() == n)).cloned().collect();
    if chosen.is_empty() {
        let what = name.map_or("projection".to_owned(), |n| format!("projection named {n:?}"));
        return Err(Error::InvalidConfig(crate::layout::ConfigError::InvalidProjection {
            name: name.unwrap_or_default().to_owned(),
            why: format!("streams of type {stream_type:?} have no {what} to rebuild"),
        }));
    }
    Ok(chosen)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Reading,
    Writing { position: u64 },
}

/// Rebuilds one stream's read models: a [`Command::FindOne`] of the whole stream, the
/// events folded from scratch, then a [`Command::UpdateOne`] filtered on the position it
/// read that `$set`s (or `$unset`s) the read models. An append racing the rebuild moves
/// the position, the update matches nothing, and the rebuild reads again (at most
/// `max_attempts` times): the read models always match the events they sit beside.
#[derive(Debug, Clone)]
pub struct Rebuild {
    ns: Option<Namespace>,
    stream: StreamName,
    layout: Layout,
    projections: Vec<InlineProjection>,
    cache: StoreCache,
    max_attempts: u32,
    attempts: u32,
    state: State,
    outbox: Outbox<RebuildResult>,
}

impl Rebuild {
    pub(crate) fn new(config: &StoreConfig, cache: &StoreCache, stream: StreamName, name: Option<&str>) -> Self {
        let mut op = Self {
            ns: None,
            layout: config.layout,
            projections: Vec::new(),
            cache: cache.clone(),
            max_attempts: config.max_attempts.max(1),
            attempts: 0,
            state: State::Reading,
            outbox: Outbox::Finished,
            stream,
        };
        let planned = chosen(config, op.stream.stream_type(), name)
            .and_then(|projections| Ok((projections, config.namespace(&op.stream)?)));
        match planned {
            Ok((projections, ns)) => {
                op.projections = projections;
                op.ns = Some(ns);
                op.read();
            }
            Err(e) => op.outbox.finish(Err(e)),
        }
        op
    }

    fn ns(&self) -> Namespace {
        self.ns.clone().unwrap_or_else(|| Namespace::new("", ""))
    }

    fn read(&mut self) {
        self.attempts += 1;
        self.state = State::Reading;
        self.outbox.send(Command::FindOne { ns: self.ns(), filter: stream_filter(&self.stream), projection: None });
    }

    fn on_document(&mut self, doc: Option<Document>) {
        let Some(doc) = doc else {
            return self.outbox.finish(Ok(RebuildResult { stream_exists: false, stream_position: 0 }));
        };
        let stream = self.stream.as_str().to_owned();
        let Some(position) = document_position(&doc) else {
            let reason = "no integral metadata.streamPosition".into();
            return self.outbox.finish(Err(Error::CorruptDocument { stream, reason }));
        };
        let seal = crate::layout::Seal::of(&doc);
        if seal.sealed {
            let successor = seal.successor;
            return self.outbox.finish(Err(Error::StreamArchived { stream, position, successor }));
        }
        let Some(mut inline) = Inline::of(self.projections.clone()) else { return };
        let evolved =
            inline.refold(&stream, self.layout, &doc, true).and_then(|()| inline.evolve(&self.stream, &[], position));
        let evolved = match evolved {
            Ok(evolved) => evolved,
            Err(e) => return self.outbox.finish(Err(e)),
        };
        let mut filter = stream_filter(&self.stream);
        filter.insert(STREAM_POSITION_PATH, position_to_bson(position));
        filter.insert(crate::layout::SEALED_AT_PATH, bson::doc! { "$exists": false });
        let mut update = Document::new();
        if !evolved.set.is_empty() {
            update.insert("$set", evolved.set.clone());
        }
        if !evolved.unset.is_empty() {
            update.insert("$unset", evolved.unset.clone());
        }
        self.state = State::Writing { position };
        self.outbox.send(Command::UpdateOne { ns: self.ns(), filter, update, upsert: false });
    }
}

impl Operation for Rebuild {
    type Output = RebuildResult;

    fn next(&mut self) -> Step<Result<RebuildResult, Error>> {
        self.outbox.next()
    }

    fn feed(&mut self, reply: Reply) {
        if !self.outbox.accept_reply() {
            return;
        }
        let step = self.describe_step();
        match (self.state, reply) {
            (State::Reading, Reply::Found(doc)) => self.on_document(doc),
            (State::Writing { position }, Reply::Updated { matched: 1, .. }) => {
                // Only the rebuilt projections are known: the cache needs them all.
                self.cache.read_models.forget(self.stream.as_str());
                self.outbox.finish(Ok(RebuildResult { stream_exists: true, stream_position: position }));
            }
            (State::Writing { .. }, Reply::Updated { .. }) if self.attempts < self.max_attempts => self.read(),
            (State::Writing { .. }, Reply::Updated { .. }) => {
                let stream = self.stream.as_str().to_owned();
                self.outbox.finish(Err(Error::Contention { stream, attempts: self.attempts }));
            }
            (State::Writing { .. }, Reply::ServerError { code, .. }) if codes::is_document_too_large(code) => {
                self.outbox.finish(Err(Error::stream_too_large(self.stream.as_str())));
            }
            (_, Reply::ServerError { code, message }) => self.outbox.finish(Err(Error::Server { code, message })),
            (_, other) => self.outbox.finish(Err(unexpected(step, &other))),
        }
    }

    fn describe_step(&self) -> &'static str {
        match self.state {
            State::Reading => "reading the stream to rebuild its read models",
            State::Writing { .. } => "writing the rebuilt read models at the position read",
        }
    }
}

/// How many stream names one page of a [`RebuildAll`] reads.
pub const REBUILD_PAGE: u64 = 100;

/// What a rebuild of every stream of a type did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RebuildAllResult {
    /// How many streams were rebuilt.
    pub streams: u64,
}

/// Rebuilds the read models of every stream of a type, one stream at a time: pages of
/// [`REBUILD_PAGE`] stream names ([`Command::Find`] sorted by `streamName`, after the
/// last one seen), each stream a [`Rebuild`]. Streams created during the rebuild are
/// rebuilt if they sort after the page being worked on, and have their read models
/// from their appends anyway.
#[derive(Debug, Clone)]
pub struct RebuildAll {
    config: StoreConfig,
    cache: StoreCache,
    stream_type: String,
    name: Option<String>,
    ns: Option<Namespace>,
    page: Vec<String>,
    last: Option<String>,
    current: Option<Box<Rebuild>>,
    /// The last page was shorter than a full one.
    exhausted: bool,
    done: RebuildAllResult,
    outbox: Outbox<RebuildAllResult>,
}

impl RebuildAll {
    pub(crate) fn new(config: &StoreConfig, cache: &StoreCache, stream_type: &str, name: Option<&str>) -> Self {
        let mut op = Self {
            config: config.clone(),
            cache: cache.clone(),
            stream_type: stream_type.to_owned(),
            name: name.map(str::to_owned),
            ns: None,
            page: Vec::new(),
            last: None,
            current: None,
            exhausted: false,
            done: RebuildAllResult::default(),
            outbox: Outbox::Finished,
        };
        let planned = config
            .type_namespace(stream_type)
            .and_then(|ns| ns.ok_or_else(|| crate::projection::QueryError::CustomStorage.into()))
            .and_then(|ns| chosen(config, stream_type, name).map(|_| ns));
        match planned {
            Ok(ns) => {
                op.ns = Some(ns);
                op.next_page();
            }
            Err(e) => op.outbox.finish(Err(e)),
        }
        op
    }

    fn next_page(&mut self) {
        let mut filter = doc! { STREAM_TYPE_PATH: { "$eq": self.stream_type.clone() } };
        if let Some(last) = &self.last {
            filter.insert(STREAM_NAME, doc! { "$gt": last.clone() });
        }
        self.outbox.send(Command::Find {
            ns: self.ns.clone().unwrap_or_else(|| Namespace::new("", "")),
            filter,
            projection: Some(doc! { "_id": 0, STREAM_NAME: 1 }),
            sort: Some(doc! { STREAM_NAME: 1 }),
            skip: 0,
            limit: REBUILD_PAGE,
        });
    }

    /// Starts the next stream of the page, or the next page, or finishes.
    fn advance(&mut self) {
        while let Some(name) = self.page.pop() {
            let Ok(stream) = self.config.stream_name(&name) else { continue };
            let mut rebuild = Rebuild::new(&self.config, &self.cache, stream, self.name.as_deref());
            match rebuild.next() {
                Step::Send(cmd) => {
                    self.outbox.send(cmd);
                    self.current = Some(Box::new(rebuild));
                    return;
                }
                Step::Done(Ok(result)) => self.done.streams += u64::from(result.stream_exists),
                Step::Done(Err(e)) => return self.outbox.finish(Err(e)),
            }
        }
        if self.exhausted {
            self.outbox.finish(Ok(self.done));
        } else {
            self.next_page();
        }
    }
}

impl Operation for RebuildAll {
    type Output = RebuildAllResult;

    fn next(&mut self) -> Step<Result<RebuildAllResult, Error>> {
        self.outbox.next()
    }

    fn feed(&mut self, reply: Reply) {
        if !self.outbox.accept_reply() {
            return;
        }
        if let Some(mut rebuild) = self.current.take() {
            rebuild.feed(reply);
            match rebuild.next() {
                Step::Send(cmd) => {
                    self.outbox.send(cmd);
                    self.current = Some(rebuild);
                }
                Step::Done(Ok(result)) => {
                    self.done.streams += u64::from(result.stream_exists);
                    self.advance();
                }
                Step::Done(Err(e)) => self.outbox.finish(Err(e)),
            }
            return;
        }
        match reply {
            Reply::FoundMany(docs) => {
                let names: Vec<String> = docs
                    .iter()
                    .filter_map(|d| match d.get(STREAM_NAME) {
                        Some(Bson::String(s)) => Some(s.clone()),
                        _ => None,
                    })
                    .collect();
                self.exhausted = (docs.len() as u64) < REBUILD_PAGE;
                self.last = names.last().cloned();
                self.page = names.into_iter().rev().collect();
                self.advance();
            }
            Reply::ServerError { code, message } => self.outbox.finish(Err(Error::Server { code, message })),
            other => self.outbox.finish(Err(unexpected("listing the streams to rebuild", &other))),
        }
    }

    fn describe_step(&self) -> &'static str {
        match &self.current {
            Some(rebuild) => rebuild.describe_step(),
            None => "listing the streams to rebuild",
        }
    }
}
