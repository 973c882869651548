//! Whether a stream exists.

use bson::doc;

use crate::command::{Command, Reply};
use crate::error::Error;
use crate::layout::StoreConfig;
use crate::name::StreamName;
use crate::ops::fetch::stream_filter;
use crate::ops::outbox::{unexpected, Outbox};
use crate::ops::{Operation, Step};

/// One [`Command::FindOne`] projecting only `_id`.
#[derive(Debug, Clone)]
pub struct Exists {
    outbox: Outbox<bool>,
}

impl Exists {
    /// Prepares the check; invalid input is returned by the first `next()`.
    pub(crate) fn new(config: &StoreConfig, stream: StreamName) -> Self {
        let mut outbox = Outbox::Finished;
        match config.namespace(&stream) {
            Ok(ns) => outbox.send(Command::FindOne {
                ns,
                filter: stream_filter(&stream),
                projection: Some(doc! { "_id": 1 }),
            }),
            Err(e) => outbox.finish(Err(e.into())),
        }
        Self { outbox }
    }
}

impl Operation for Exists {
    type Output = bool;

    fn next(&mut self) -> Step<Result<bool, Error>> {
        self.outbox.next()
    }

    fn feed(&mut self, reply: Reply) {
        if !self.outbox.accept_reply() {
            return;
        }
        let result = match reply {
            Reply::Found(doc) => Ok(doc.is_some()),
            Reply::ServerError { code, message } => Err(Error::Server { code, message }),
            other => Err(unexpected(self.describe_step(), &other)),
        };
        self.outbox.finish(result);
    }

    fn describe_step(&self) -> &'static str {
        "checking whether the stream exists"
    }
}
