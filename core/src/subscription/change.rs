//! Reading a change event (MongoDB's shape) as news of a stream.
//!
//! An append that creates a stream is an upsert, reported as `insert` with the whole
//! document in `fullDocument`. An append to an existing stream is an `update` whose
//! `updateDescription.updatedFields` holds each new event as `events.<i>` (`messages.<i>`
//! in the Emmett layout) and the new `metadata.streamPosition`. Some servers send
//! updates without `updateDescription`: then the stream head is looked up by the
//! document's `_id`; and a notice that names no document at all (mongo-java-server 1.47:
//! no `ns`, and an update's `documentKey` holds the update instead of the `_id`) only
//! says that something changed, so the subscription polls for it. A notice without
//! `ns` is read as one of the watched collection, the only one a collection's change
//! stream reports on.

use bson::{Bson, Document};

use crate::command::Namespace;
use crate::event::RecordedEvent;
use crate::layout::{document_position, Layout, STREAM_NAME, STREAM_POSITION_PATH};

/// What a change event says about a stream.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum News {
    /// `stream` is at `position`; `carried` are events the notice held, in order (maybe
    /// none, maybe not all since the consumer's checkpoint).
    Head { stream: String, position: u64, carried: Vec<RecordedEvent> },
    /// Something changed in the document with this `_id`: look its head up.
    Lookup { id: Bson },
    /// Some stream document changed, which one the notice does not say: poll.
    Poll,
    /// Nothing a consumer of events needs (a delete, a read model rebuild, another
    /// collection, a token write).
    Nothing,
}

/// Reads one change event of a stream collection.
pub(crate) fn news(change: &Document, ns: &Namespace, layout: Layout) -> News {
    let in_ns = match change.get_document("ns") {
        Ok(n) => n.get_str("db").is_ok_and(|db| db == ns.db) && n.get_str("coll").is_ok_and(|c| c == ns.collection),
        Err(_) => true,
    };
    if !in_ns {
        return News::Nothing;
    }
    let lookup = || match change.get_document("documentKey").ok().and_then(|k| k.get("_id")) {
        Some(id) => News::Lookup { id: id.clone() },
        None => News::Poll,
    };
    match change.get_str("operationType").unwrap_or_default() {
        "insert" | "replace" => match change.get_document("fullDocument") {
            Ok(full) if full.contains_key(STREAM_NAME) => from_full_document(full, layout),
            _ => lookup(),
        },
        "update" => match change.get_document("updateDescription").and_then(|u| u.get_document("updatedFields")) {
            Ok(fields) => from_updated_fields(fields, layout).unwrap_or_else(|| {
                // The update changed events but the notice does not say which stream.
                if touches_events(fields, layout) {
                    lookup()
                } else {
                    News::Nothing
                }
            }),
            Err(_) => lookup(),
        },
        _ => News::Nothing,
    }
}

fn from_full_document(full: &Document, layout: Layout) -> News {
    let (Ok(stream), Some(position)) = (full.get_str(STREAM_NAME), document_position(full)) else {
        return News::Nothing;
    };
    let carried = match full.get_array(layout.events_field()) {
        Ok(items) => items.iter().map_while(|item| layout.decode_event(stream, item).ok()).collect(),
        Err(_) => Vec::new(),
    };
    News::Head { stream: stream.to_owned(), position, carried }
}

fn touches_events(fields: &Document, layout: Layout) -> bool {
    let events = layout.events_field();
    fields.keys().any(|k| k == events || k.strip_prefix(events).is_some_and(|rest| rest.starts_with('.')))
}

/// The head an update's delta describes, when it carries events (their metadata names
/// the stream) and the new position.
fn from_updated_fields(fields: &Document, layout: Layout) -> Option<News> {
    let events_field = layout.events_field();
    let mut items: Vec<(u64, &Bson)> = Vec::new();
    for (key, value) in fields {
        if key == events_field {
            items.extend(value.as_array()?.iter().enumerate().map(|(i, v)| (i as u64, v)));
        } else if let Some(index) = key.strip_prefix(events_field).and_then(|r| r.strip_prefix('.')) {
            items.push((index.parse().ok()?, value));
        }
    }
    if items.is_empty() {
        return None;
    }
    items.sort_by_key(|(i, _)| *i);
    let stream = items[0].1.as_document()?.get_document("metadata").ok()?.get_str(STREAM_NAME).ok()?.to_owned();
    let carried: Vec<RecordedEvent> =
        items.iter().map(|(_, item)| layout.decode_event(&stream, item)).collect::<Result<_, _>>().ok()?;
    let position = match fields.get(STREAM_POSITION_PATH) {
        Some(p) => crate::layout::position_from_bson(p)?,
        None => fields
            .get_document("metadata")
            .ok()
            .and_then(|m| document_position(&bson::doc! { "metadata": m.clone() }))?,
    };
    Some(News::Head { stream, position, carried })
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::*;

    fn ns() -> Namespace {
        Namespace::new("app", "order")
    }

    fn event(position: i64) -> Document {
        doc! { "type": "Placed", "data": {}, "metadata": { "eventId": format!("e{position}"), "streamName": "order:1", "streamPosition": position } }
    }

    #[test]
    fn an_append_s_delta_carries_its_events_and_position() {
        let change = doc! {
            "operationType": "update", "ns": { "db": "app", "coll": "order" }, "documentKey": { "_id": 7 },
            "updateDescription": { "updatedFields": { "events.2": event(3), "events.3": event(4), "metadata.streamPosition": 4_i64, "metadata.updatedAt": bson::DateTime::from_millis(1) } },
        };
        let News::Head { stream, position, carried } = news(&change, &ns(), Layout::Streamdoc) else { panic!() };
        assert_eq!((stream.as_str(), position), ("order:1", 4));
        assert_eq!(carried.iter().map(|e| e.metadata.stream_position).collect::<Vec<_>>(), vec![3, 4]);
    }

    #[test]
    fn notices_without_a_delta_or_a_stream_are_looked_up_and_others_ignored() {
        let bare =
            doc! { "operationType": "update", "ns": { "db": "app", "coll": "order" }, "documentKey": { "_id": 7 } };
        assert_eq!(news(&bare, &ns(), Layout::Streamdoc), News::Lookup { id: Bson::Int32(7) });
        let rebuild = doc! {
            "operationType": "update", "ns": { "db": "app", "coll": "order" }, "documentKey": { "_id": 7 },
            "updateDescription": { "updatedFields": { "projections.summary": {} } },
        };
        assert_eq!(news(&rebuild, &ns(), Layout::Streamdoc), News::Nothing);
        // mongo-java-server 1.47: no ns, and the update in place of the document key.
        let anonymous = doc! {
            "operationType": "update",
            "fullDocument": { "metadata.streamPosition": 3_i64 },
            "documentKey": { "$push": { "events": { "$each": [] } } },
        };
        assert_eq!(news(&anonymous, &ns(), Layout::Streamdoc), News::Poll);
        let elsewhere = doc! { "operationType": "insert", "ns": { "db": "app", "coll": "cart" }, "fullDocument": {} };
        assert_eq!(news(&elsewhere, &ns(), Layout::Streamdoc), News::Nothing);
        let created = doc! {
            "operationType": "insert", "ns": { "db": "app", "coll": "order" },
            "fullDocument": { "streamName": "order:1", "events": [event(1)], "metadata": { "streamPosition": 1_i64 } },
        };
        assert!(
            matches!(news(&created, &ns(), Layout::Streamdoc), News::Head { position: 1, ref carried, .. } if carried.len() == 1)
        );
    }
}
