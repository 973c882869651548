//! Fetching a stream's document exactly as stored (for explorers and the HTTP API's
//! `/streams/{name}/document`).

use bson::Document;

use crate::command::{Command, Reply};
use crate::error::Error;
use crate::layout::StoreConfig;
use crate::name::StreamName;
use crate::ops::fetch::stream_filter;
use crate::ops::outbox::{unexpected, Outbox};
use crate::ops::{Operation, Step};

/// One [`Command::FindOne`] with no projection: the whole stored document, or `None`
/// when the stream does not exist. It is not decoded: what the server holds is
/// returned as it holds it.
///
/// Expects a [`Reply::Found`]; a [`Reply::ServerError`] ends it with
/// [`Error::Server`], any other reply with [`Error::UnexpectedReply`].
#[derive(Debug, Clone)]
pub struct FetchDocument {
    outbox: Outbox<Option<Document>>,
}

impl FetchDocument {
    /// Prepares the fetch; invalid input is returned by the first `next()`.
    pub(crate) fn new(config: &StoreConfig, stream: StreamName) -> Self {
        let mut outbox = Outbox::Finished;
        match config.namespace(&stream) {
            Ok(ns) => outbox.send(Command::FindOne { ns, filter: stream_filter(&stream), projection: None }),
            Err(e) => outbox.finish(Err(e.into())),
        }
        Self { outbox }
    }
}

impl Operation for FetchDocument {
    type Output = Option<Document>;

    fn next(&mut self) -> Step<Result<Option<Document>, Error>> {
        self.outbox.next()
    }

    fn feed(&mut self, reply: Reply) {
        if !self.outbox.accept_reply() {
            return;
        }
        let result = match reply {
            Reply::Found(doc) => Ok(doc),
            Reply::ServerError { code, message } => Err(Error::Server { code, message }),
            other => Err(unexpected(self.describe_step(), &other)),
        };
        self.outbox.finish(result);
    }

    fn describe_step(&self) -> &'static str {
        "fetching the stream document"
    }
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::*;
    use crate::driver::run;
    use crate::{Engine, ExpectedVersion, NewEvent, SeededIds, SteppingClock, StoreContext};

    #[test]
    fn returns_the_stored_document_or_none() {
        let ctx = StoreContext::new(StoreConfig::new("app"), SteppingClock::new(0, 1), SeededIds::new(1)).unwrap();
        let mut engine = Engine::new(0);
        assert_eq!(run(&mut ctx.document("order:1").unwrap(), &mut engine).unwrap(), None);
        let event = NewEvent::new("Placed", doc! { "$odd": 1, "a.b": 2 });
        run(&mut ctx.append("order:1", vec![event], ExpectedVersion::NoStream).unwrap(), &mut engine).unwrap();
        let stored = run(&mut ctx.document("order:1").unwrap(), &mut engine).unwrap().unwrap();
        assert_eq!(stored.get_str("streamName").unwrap(), "order:1");
        let events = stored.get_array("events").unwrap();
        let data = events[0].as_document().unwrap().get_document("data").unwrap();
        assert_eq!(data, &doc! { "$odd": 1, "a.b": 2 });
    }

    #[test]
    fn a_reply_of_the_wrong_kind_is_unexpected() {
        let config = StoreConfig::new("app");
        let mut op = FetchDocument::new(&config, StreamName::parse("order:1").unwrap());
        assert!(matches!(op.next(), Step::Send(Command::FindOne { projection: None, .. })));
        op.feed(Reply::Updated { matched: 1, modified: 1, upserted_id: None });
        assert!(matches!(op.next(), Step::Done(Err(Error::UnexpectedReply { .. }))));
    }
}
