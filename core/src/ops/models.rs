//! Reading read models: one stream's, or a query across the streams of a type.

use bson::{doc, Bson, Document};

use crate::command::{Command, Namespace, Reply};
use crate::error::Error;
use crate::layout::{StoreConfig, STREAM_NAME};
use crate::name::StreamName;
use crate::ops::cache::StoreCache;
use crate::ops::fetch::stream_filter;
use crate::ops::index::collection_index_commands;
use crate::ops::outbox::{unexpected, Outbox};
use crate::ops::{Operation, Step};
use crate::projection::{ProjectionQuery, QueryError, ReadModel};

/// The read model of one projection of one stream: one [`Command::FindOne`] reduced to
/// `projections.<name>`. `None` when the stream or its read model does not exist.
#[derive(Debug, Clone)]
pub struct ReadModelOp {
    stream: String,
    projection: String,
    outbox: Outbox<Option<ReadModel>>,
}

impl ReadModelOp {
    pub(crate) fn new(config: &StoreConfig, stream: StreamName, projection: &str) -> Self {
        let mut outbox = Outbox::Finished;
        let checked = crate::projection::check_projection_name(projection).map_err(Error::from);
        match checked.and_then(|()| Ok(config.namespace(&stream)?)) {
            Ok(ns) => outbox.send(Command::FindOne {
                ns,
                filter: stream_filter(&stream),
                projection: Some(doc! { "_id": 0, STREAM_NAME: 1, crate::projection::path(projection): 1 }),
            }),
            Err(e) => outbox.finish(Err(e)),
        }
        Self { stream: stream.as_str().to_owned(), projection: projection.to_owned(), outbox }
    }
}

impl Operation for ReadModelOp {
    type Output = Option<ReadModel>;

    fn next(&mut self) -> Step<Result<Option<ReadModel>, Error>> {
        self.outbox.next()
    }

    fn feed(&mut self, reply: Reply) {
        if !self.outbox.accept_reply() {
            return;
        }
        let result = match reply {
            Reply::Found(doc) => Ok(doc.and_then(|d| {
                crate::projection::stored_in(&d, &self.projection)
                    .map(|m| ReadModel { stream_name: self.stream.clone(), document: m.clone() })
            })),
            Reply::ServerError { code, message } => Err(Error::Server { code, message }),
            other => Err(unexpected(self.describe_step(), &other)),
        };
        self.outbox.finish(result);
    }

    fn describe_step(&self) -> &'static str {
        "reading the read model"
    }
}

/// What a query counts or finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Find,
    Count,
}

/// What a query answers.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryAnswer {
    /// The read models found, in order.
    Models(Vec<ReadModel>),
    /// How many read models match.
    Count(u64),
}

impl QueryAnswer {
    /// The read models of a find ([`Error::Misuse`] for a count's answer).
    pub fn into_models(self) -> Result<Vec<ReadModel>, Error> {
        match self {
            QueryAnswer::Models(models) => Ok(models),
            QueryAnswer::Count(_) => {
                Err(Error::Misuse { message: "a find of read models answered with a count".into() })
            }
        }
    }

    /// The number a count answered ([`Error::Misuse`] for a find's answer).
    pub fn into_count(self) -> Result<u64, Error> {
        match self {
            QueryAnswer::Count(n) => Ok(n),
            QueryAnswer::Models(_) => {
                Err(Error::Misuse { message: "a count of read models answered with read models".into() })
            }
        }
    }
}

/// A query over read models ([`ProjectionQuery`]): the collection's indexes on its first
/// use by this store (the unique `streamName` one and those the projections declare),
/// then one [`Command::Find`] or [`Command::Count`].
#[derive(Debug, Clone)]
pub struct QueryModels {
    query: ProjectionQuery,
    mode: Mode,
    ns: Option<Namespace>,
    cache: StoreCache,
    pending_indexes: Vec<Command>,
    command: Option<Command>,
    outbox: Outbox<QueryAnswer>,
}

impl QueryModels {
    /// A find (`count`: false) or count of `query`.
    pub(crate) fn new(config: &StoreConfig, cache: &StoreCache, query: ProjectionQuery, count: bool) -> Self {
        let mode = if count { Mode::Count } else { Mode::Find };
        let mut op = Self {
            query,
            mode,
            ns: None,
            cache: cache.clone(),
            pending_indexes: Vec::new(),
            command: None,
            outbox: Outbox::Finished,
        };
        match op.plan(config) {
            Ok(()) => op.send_next(),
            Err(e) => op.outbox.finish(Err(e)),
        }
        op
    }

    fn plan(&mut self, config: &StoreConfig) -> Result<(), Error> {
        let ns = config.type_namespace(&self.query.stream_type)?.ok_or(QueryError::CustomStorage)?;
        let filter = self.query.server_filter()?;
        let command = match self.mode {
            Mode::Find => Command::Find {
                ns: ns.clone(),
                filter,
                projection: Some(self.query.server_projection()),
                sort: Some(self.query.server_sort()?),
                skip: self.query.skip,
                limit: self.query.limit,
            },
            Mode::Count => Command::Count { ns: ns.clone(), filter, skip: self.query.skip, limit: self.query.limit },
        };
        if !self.cache.indexes.contains(&ns) {
            let projections: Vec<_> = config.projections_for(&self.query.stream_type).cloned().collect();
            let mut commands = collection_index_commands(&ns, false, &projections);
            commands.reverse();
            self.pending_indexes = commands;
        }
        self.ns = Some(ns);
        self.command = Some(command);
        Ok(())
    }

    fn send_next(&mut self) {
        match self.pending_indexes.pop().or_else(|| self.command.take()) {
            Some(command) => self.outbox.send(command),
            None => self.outbox.finish(Err(Error::Misuse { message: "the query has nothing left to send".into() })),
        }
    }

    fn answer(&self, docs: Vec<Document>) -> QueryAnswer {
        let name = &self.query.projection;
        QueryAnswer::Models(
            docs.into_iter()
                .filter_map(|d| {
                    let stream_name = match d.get(STREAM_NAME) {
                        Some(Bson::String(s)) => s.clone(),
                        _ => return None,
                    };
                    crate::projection::stored_in(&d, name).map(|m| ReadModel { stream_name, document: m.clone() })
                })
                .collect(),
        )
    }
}

impl Operation for QueryModels {
    type Output = QueryAnswer;

    fn next(&mut self) -> Step<Result<QueryAnswer, Error>> {
        self.outbox.next()
    }

    fn feed(&mut self, reply: Reply) {
        if !self.outbox.accept_reply() {
            return;
        }
        let step = self.describe_step();
        match reply {
            Reply::Acknowledged if self.command.is_some() => {
                if self.pending_indexes.is_empty() {
                    if let Some(ns) = &self.ns {
                        self.cache.indexes.insert(ns.clone());
                    }
                }
                self.send_next();
            }
            Reply::FoundMany(docs) if self.mode == Mode::Find && self.command.is_none() => {
                let answer = self.answer(docs);
                self.outbox.finish(Ok(answer));
            }
            Reply::Counted(n) if self.mode == Mode::Count && self.command.is_none() => {
                self.outbox.finish(Ok(QueryAnswer::Count(n)));
            }
            Reply::ServerError { code, message } => self.outbox.finish(Err(Error::Server { code, message })),
            Reply::DuplicateKey { message } => {
                self.outbox.finish(Err(Error::Server { code: crate::command::codes::DUPLICATE_KEY, message }))
            }
            other => self.outbox.finish(Err(unexpected(step, &other))),
        }
    }

    fn describe_step(&self) -> &'static str {
        match (self.command.is_some(), self.mode) {
            (true, _) => "creating the collection's indexes",
            (false, Mode::Find) => "finding read models",
            (false, Mode::Count) => "counting read models",
        }
    }
}
