//! Named races: the scenarios the playground opens and the tests explore under every
//! design.

use serde::Serialize;

use crate::engine::Engine;
use crate::error::Error;
use crate::expected::ExpectedVersion;
use crate::layout::{Layout, StoreConfig};
use crate::ops::OpSpec;
use crate::sim::{ClientScript, Design, SimOptions, Simulation};
use crate::NewEvent;

/// A race: what is in the store before it starts, and what each client runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Race {
    /// A stable identifier (`racing-first-append`, ...).
    pub id: &'static str,
    /// A short title.
    pub title: &'static str,
    /// What it shows, in a sentence or two.
    pub summary: &'static str,
    /// The document layout.
    pub layout: Layout,
    /// Run one after another before the race, by a store of the race's design.
    pub setup: Vec<OpSpec>,
    /// The racing clients.
    pub clients: Vec<ClientScript>,
    /// How many times a client retries an append whose reply was lost.
    pub retries: u32,
    /// How many replies the explorer loses per schedule.
    pub faults: u32,
    /// A whole schedule worth stepping through first (client indexes): every client finishes at its end.
    pub schedule: Vec<usize>,
    /// Indexes into `schedule` of the steps whose replies are lost.
    pub lost: Vec<usize>,
}

fn append(stream: &str, event_type: &str, expected: ExpectedVersion) -> OpSpec {
    let events = vec![NewEvent::new(event_type, bson::doc! {})];
    OpSpec::Append { stream: stream.to_owned(), events, expected }
}

fn client(name: &str, ops: Vec<OpSpec>) -> ClientScript {
    ClientScript { name: name.to_owned(), ops }
}

/// `n` clients `a`, `b`, ... each creating `stream` with one event.
fn creators(n: usize, stream: &str) -> Vec<ClientScript> {
    (0..n)
        .map(|i| {
            let name = ((b'a' + i as u8) as char).to_string();
            client(&name, vec![append(stream, "OrderPlaced", ExpectedVersion::NoStream)])
        })
        .collect()
}

/// Every race of the gallery.
pub fn races() -> Vec<Race> {
    let race = |id, title, summary, clients, schedule: Vec<usize>| Race {
        id,
        title,
        summary,
        layout: Layout::Streamdoc,
        setup: Vec::new(),
        clients,
        retries: 1,
        faults: 0,
        schedule,
        lost: Vec::new(),
    };
    vec![
        race(
            "racing-first-append",
            "The racing first append",
            "Two writers create the same stream at once. Both updateOnes upsert; the unique index on streamName \
             lets one insert and answers the other E11000, which it reports as a conflict.",
            creators(2, "order:42"),
            vec![0, 1, 0, 1, 1],
        ),
        Race {
            setup: vec![append("cart:7", "CartOpened", ExpectedVersion::NoStream)],
            ..race(
                "stale-writer",
                "A stale writer",
                "The cart is at position 1 and two writers both expect 1. The first updateOne matches; the \
                 second matches nothing (the position moved), reads the stream and reports a conflict with the \
                 actual position.",
                vec![
                    client("a", vec![append("cart:7", "ItemAdded", ExpectedVersion::Exact(1))]),
                    client("b", vec![append("cart:7", "ItemRemoved", ExpectedVersion::Exact(1))]),
                ],
                vec![0, 1, 0, 1, 1],
            )
        },
        Race {
            faults: 1,
            lost: vec![1],
            ..race(
                "lost-reply",
                "A lost reply and its retry",
                "The reply to a's write is lost: a cannot know whether it was applied, so it retries with the \
                 same event ids; the retry finds its own events at the positions it expected and reports \
                 success, once.",
                creators(2, "order:42"),
                vec![0, 0, 0, 0, 1, 1, 1],
            )
        },
        race(
            "read-then-append",
            "Read, then append (no check)",
            "Two writers append with no expected version: each reads the position, then writes conditionally \
             at it; the one that loses the race reads again and appends after the winner.",
            vec![
                client("a", vec![append("order:42", "NoteAdded", ExpectedVersion::Any)]),
                client("b", vec![append("order:42", "NoteAdded", ExpectedVersion::Any)]),
            ],
            vec![0, 1, 0, 1, 0, 1, 1, 1],
        ),
        Race {
            setup: vec![append("cart:1", "CartOpened", ExpectedVersion::NoStream)],
            ..race(
                "shopping-cart",
                "A shopping cart",
                "A cart is opened; a customer adds items at the positions they know while a second tab adds one \
                 too: every item lands once, in order, and a stale tab is told the position it missed.",
                vec![
                    client(
                        "a",
                        vec![
                            append("cart:1", "ItemAdded", ExpectedVersion::Exact(1)),
                            append("cart:1", "ItemAdded", ExpectedVersion::Exact(2)),
                        ],
                    ),
                    client("b", vec![append("cart:1", "ItemAdded", ExpectedVersion::Exact(1))]),
                ],
                vec![0, 0, 1, 1, 0, 1],
            )
        },
        Race {
            layout: Layout::Emmett,
            ..race(
                "emmett-layout",
                "An Emmett-layout stream",
                "The same race on the document shape of @event-driven-io/emmett-mongodb: events in `messages`, \
                 the collection `emt:order`.",
                creators(2, "order:42"),
                vec![0, 1, 0, 1, 1],
            )
        },
        race(
            "four-writers",
            "Four writers",
            "Four writers race to create one stream: 43,920 interleavings, exactly one winner in each.",
            creators(4, "order:42"),
            vec![0, 1, 2, 3, 0, 1, 2, 3, 1, 2, 3],
        ),
        race(
            "five-writers",
            "Five writers",
            "Five writers race to create one stream: 15,220,800 interleavings, explored through 1,997 distinct states.",
            creators(5, "order:42"),
            vec![0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 1, 2, 3, 4],
        ),
    ]
}

impl Race {
    /// The race's simulation under `design`, its setup already run.
    pub fn simulation(&self, design: Design) -> Result<Simulation<Engine>, Error> {
        let engine = self.engine_after_setup(design)?;
        Simulation::configured(engine, self.config(), self.clients.clone(), self.options(design))
    }

    /// The configuration of the race's stores.
    pub fn config(&self) -> StoreConfig {
        StoreConfig { layout: self.layout, ..StoreConfig::new("app") }
    }

    /// The simulation options of the race under `design`.
    pub fn options(&self, design: Design) -> SimOptions {
        SimOptions { design, retries: self.retries }
    }

    /// A fresh engine after the race's setup, run by a store of `design`.
    pub fn engine_after_setup(&self, design: Design) -> Result<Engine, Error> {
        let setup = vec![client("setup", self.setup.clone())];
        let mut sim = Simulation::configured(Engine::new(0), self.config(), setup, self.options(design))?;
        sim.run_to_end();
        Ok(sim.executor().clone())
    }

    /// The race named `id`.
    pub fn named(id: &str) -> Option<Race> {
        races().into_iter().find(|r| r.id == id)
    }
}
