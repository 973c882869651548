//! `StoreExecutor`: the in-memory engine or a MongoDB server, chosen at run time, behind
//! one [`EventStore`] type.

use std::collections::BTreeMap;

use bson::Document;
use streamdoc_core::{Command, ExecutorError, Reply};

use crate::driver::{AsyncExecutor, SharedEngine};
use crate::mongo::MongoExecutor;
use crate::server_info::ServerInfo;
use crate::store::EventStore;

/// An event store on whichever executor was chosen at run time: what `streamdoc serve`
/// runs, and what [`crate::http::router`] takes.
pub type AnyEventStore = EventStore<StoreExecutor>;

/// Core's in-memory engine or a MongoDB server, as one [`AsyncExecutor`] that passes
/// each command (and each [`ping`](AsyncExecutor::ping)) to the one it holds.
///
/// For a program that picks its store from its configuration (`streamdoc serve` runs on
/// the engine without a MongoDB URI), so that the rest of it deals with one store type.
/// Stores on either executor convert with `From`/`Into` or
/// [`EventStore::into_any`]; the store keeps its context (configuration, index registry,
/// position hints), so nothing is lost in the conversion.
///
/// ```
/// use bson::doc;
/// use streamdoc_core::{ExpectedVersion, NewEvent, StoreConfig};
/// use streamdoc_host::{AnyEventStore, EventStore};
///
/// /// The store a configuration asks for: MongoDB at `uri`, or the engine without one.
/// async fn open(uri: Option<&str>, config: StoreConfig) -> Result<AnyEventStore, Box<dyn std::error::Error>> {
///     Ok(match uri {
///         Some(uri) => EventStore::connect(uri, config).await?.into(),
///         None => EventStore::in_memory(config)?.into_any(),
///     })
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = open(None, StoreConfig::new("shop")).await.unwrap();
/// assert_eq!(store.executor().kind(), "memory");
/// assert!(store.executor().server().is_none());
/// store.append_to_stream("order:1", vec![NewEvent::new("Placed", doc! {})], ExpectedVersion::NoStream).await.unwrap();
/// assert!(store.ping().await.is_ok());
/// store.close().await;
/// # });
/// ```
#[derive(Debug, Clone)]
pub enum StoreExecutor {
    /// Core's in-memory engine, in this process.
    Memory(SharedEngine),
    /// A MongoDB (or MongoDB-compatible) server.
    Mongo(MongoExecutor),
}

impl StoreExecutor {
    /// `"memory"` or `"mongodb"` (as `/health` reports it).
    pub fn kind(&self) -> &'static str {
        match self {
            StoreExecutor::Memory(_) => "memory",
            StoreExecutor::Mongo(_) => "mongodb",
        }
    }

    /// What the server said it is when the executor connected; `None` for the engine.
    pub fn server(&self) -> Option<&ServerInfo> {
        match self {
            StoreExecutor::Memory(_) => None,
            StoreExecutor::Mongo(mongo) => Some(mongo.server()),
        }
    }

    /// Every document of `database`, per `"database.collection"` (sorted): each
    /// collection's in insertion order on the engine, sorted by `_id` on MongoDB;
    /// collections without documents are left out (the shape of the JavaScript
    /// package's `documents()`).
    pub async fn database_documents(&self, database: &str) -> Result<BTreeMap<String, Vec<Document>>, ExecutorError> {
        match self {
            StoreExecutor::Memory(engine) => Ok(engine.database_documents(database)),
            StoreExecutor::Mongo(mongo) => mongo.database_documents(database).await,
        }
    }

    /// Drops `database`, its collections, documents and indexes.
    pub async fn drop_database(&self, database: &str) -> Result<(), ExecutorError> {
        match self {
            StoreExecutor::Memory(engine) => {
                engine.drop_database(database);
                Ok(())
            }
            StoreExecutor::Mongo(mongo) => mongo.drop_database(database).await,
        }
    }

    /// Shuts the MongoDB client down if the executor created it (see
    /// [`MongoExecutor::close`]); nothing to do for the engine.
    pub async fn close(self) {
        if let StoreExecutor::Mongo(mongo) = self {
            mongo.close().await;
        }
    }
}

impl AsyncExecutor for StoreExecutor {
    async fn execute(&self, command: &Command) -> Result<Reply, ExecutorError> {
        match self {
            StoreExecutor::Memory(engine) => engine.execute(command).await,
            StoreExecutor::Mongo(mongo) => mongo.execute(command).await,
        }
    }

    async fn ping(&self) -> Result<(), ExecutorError> {
        match self {
            StoreExecutor::Memory(engine) => engine.ping().await,
            StoreExecutor::Mongo(mongo) => mongo.ping().await,
        }
    }
}

impl From<SharedEngine> for StoreExecutor {
    fn from(engine: SharedEngine) -> Self {
        StoreExecutor::Memory(engine)
    }
}

impl From<MongoExecutor> for StoreExecutor {
    fn from(mongo: MongoExecutor) -> Self {
        StoreExecutor::Mongo(mongo)
    }
}

impl From<EventStore<SharedEngine>> for AnyEventStore {
    fn from(store: EventStore<SharedEngine>) -> Self {
        store.into_any()
    }
}

impl From<EventStore<MongoExecutor>> for AnyEventStore {
    fn from(store: EventStore<MongoExecutor>) -> Self {
        store.into_any()
    }
}

impl AnyEventStore {
    /// Shuts the MongoDB client down if the store created it
    /// ([`EventStore::connect`]); nothing to do on the engine. Clones share the client:
    /// close the last one.
    pub async fn close(self) {
        self.into_executor().close().await;
    }
}

#[cfg(test)]
mod tests {
    use bson::doc;
    use streamdoc_core::{
        Engine, ExpectedVersion, Namespace, NewEvent, ReadRange, SeededIds, SteppingClock, StoreConfig, StoreContext,
    };

    use super::*;

    fn context() -> StoreContext {
        StoreContext::new(StoreConfig::new("app"), SteppingClock::new(0, 1), SeededIds::new(7)).unwrap()
    }

    fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    }

    /// Every command reaches the engine the enum holds, and its replies come back as
    /// they are: the same results and stored documents as on the engine directly.
    #[test]
    fn the_enum_passes_each_command_to_the_executor_it_holds() {
        let direct = EventStore::new(context(), SharedEngine::new(0));
        let engine = SharedEngine::new(0);
        let any: AnyEventStore = EventStore::new(context(), engine.clone()).into();
        assert_eq!(any.executor().kind(), "memory");
        assert!(any.executor().server().is_none());
        let e = |t: &str| vec![NewEvent::new(t, doc! { "n": 1 })];
        block_on(async {
            for (stream, expected) in [
                ("order:1", ExpectedVersion::NoStream),
                ("order:1", ExpectedVersion::Exact(1)),
                ("order:1", ExpectedVersion::Exact(1)),
                ("order:1", ExpectedVersion::Any),
                ("order:2", ExpectedVersion::StreamExists),
            ] {
                assert_eq!(
                    any.append_to_stream(stream, e("E"), expected).await,
                    direct.append_to_stream(stream, e("E"), expected).await,
                );
            }
            assert_eq!(
                any.read_stream("order:1", ReadRange::all()).await,
                direct.read_stream("order:1", ReadRange::all()).await
            );
            assert_eq!(any.stream_document("order:1").await, direct.stream_document("order:1").await);
            assert_eq!(any.ping().await, Ok(()));
        });
        let ns = Namespace::new("app", "order");
        let stored = engine.with_engine(|e| e.documents(&ns));
        assert_eq!(stored.len(), 1);
        assert_eq!(stored, direct.executor().with_engine(|e| e.documents(&ns)));
    }

    #[test]
    fn stores_on_either_executor_convert_and_keep_their_context() {
        let store = EventStore::new(context(), SharedEngine::from_engine(Engine::new(3)));
        block_on(store.append_to_stream("cart:1", vec![NewEvent::new("Opened", doc! {})], ExpectedVersion::NoStream))
            .unwrap();
        // The position hint recorded before the conversion is still there after it.
        let any = store.into_any();
        assert_eq!(any.context().cache().positions.get("cart:1"), Some(1));
        assert!(matches!(any.executor(), StoreExecutor::Memory(_)));
        // Converting again is the identity.
        let again = any.into_any();
        assert!(block_on(again.stream_exists("cart:1")).unwrap());
        assert!(matches!(StoreExecutor::from(SharedEngine::new(0)), StoreExecutor::Memory(_)));
    }
}
