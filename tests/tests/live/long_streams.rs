//! Past the 16 MiB wall on a live server: a stream grown in segments far past one
//! document's limit, and an archive racing real concurrent appends.

use std::time::Instant;

use bson::doc;
use streamdoc_core::layout::DEFAULT_SEGMENT_BYTES;
use streamdoc_core::ops::StreamState;
use streamdoc_core::{Error, ExpectedVersion, Namespace, NewEvent, ReadRange, StoreConfig};
use streamdoc_host::{AsyncExecutor, EventStore};
use streamdoc_tests::live;

/// 64 KiB of data per event.
const PAYLOAD: usize = 64 * 1024;

#[test]
fn a_stream_grown_past_the_document_limit_in_segments_reads_back_whole_and_in_order() {
    let Some(live) = live::connect("segmented streams") else { return };
    // FerretDB rewrites a whole document per update (its SQLite backend), so its appends
    // cost time proportional to the segment: 20 MiB (past the 16 MiB wall) bounds the
    // run there; the other servers take the full 50 MiB.
    let mib = if live.server().is_ferretdb() { 20 } else { 50 };
    let scratch = live.scratch("segments");
    let config = StoreConfig::new(scratch.name()).with_segments(DEFAULT_SEGMENT_BYTES);
    let store = live.block_on(EventStore::with_client(live.executor().client().clone(), config)).expect("a store");
    let count = mib * 1024 * 1024 / PAYLOAD + 1;
    let started = Instant::now();
    let mut expected = ExpectedVersion::NoStream;
    for i in 0..count {
        let event =
            NewEvent::new("Chunk", doc! { "i": i as i32, "bytes": "x".repeat(PAYLOAD) }).with_id(format!("e{i}"));
        let r = live.block_on(store.append_to_stream("blob:1", vec![event], expected)).expect("an append");
        expected = ExpectedVersion::Exact(r.next_expected_stream_version);
    }
    let appended = started.elapsed();
    let started = Instant::now();
    let read = live.block_on(store.read_stream("blob:1", ReadRange::all())).expect("the whole stream");
    let read_time = started.elapsed();
    assert_eq!(read.events.len(), count);
    assert_eq!(read.current_stream_version, count as u64);
    for (e, position) in read.events.iter().zip(1u64..) {
        assert_eq!(e.metadata.stream_position, position);
        assert_eq!(e.metadata.event_id, format!("e{}", position - 1));
    }
    let last_ten = ReadRange { from: Some(count as u64 - 9), to: None, max_count: None };
    let tail = live.block_on(store.read_stream("blob:1", last_ten)).expect("a ranged read");
    assert_eq!(tail.events.len(), 10);
    assert_eq!(tail.events[0].metadata.stream_position, count as u64 - 9);
    let count_segments = streamdoc_core::Command::Count {
        ns: Namespace::new(scratch.name(), "blob"),
        filter: doc! {},
        skip: 0,
        limit: 0,
    };
    let segments = match live.block_on(live.executor().execute(&count_segments)) {
        Ok(streamdoc_core::Reply::Counted(count)) => count as usize,
        other => panic!("counting the segments: {other:?}"),
    };
    assert!(segments * DEFAULT_SEGMENT_BYTES as usize >= mib * 1024 * 1024, "{segments} segments");
    streamdoc_tests::report!(
        "segmented stream on {}: {mib} MiB in {count} appends of 64 KiB over {segments} segments; appends {:.1} s \
         ({:.1} ms each), whole read {:.2} s",
        live.server(),
        appended.as_secs_f64(),
        appended.as_secs_f64() * 1000.0 / count as f64,
        read_time.as_secs_f64()
    );
}

#[test]
fn an_archive_racing_appends_keeps_every_acknowledged_event_once() {
    let Some(live) = live::connect("archive races") else { return };
    // FerretDB does not apply a conditional update atomically (tests/DEVIATIONS.md):
    // appends racing each other can lose updates there, so it races one writer, and
    // the archive, in turn; the other servers race four.
    let writers = if live.server().is_ferretdb() { 1 } else { 4 };
    let scratch = live.scratch("archive_race");
    let store = live
        .block_on(EventStore::with_client(live.executor().client().clone(), StoreConfig::new(scratch.name())))
        .expect("a store");
    let stream = "ledger:1";
    let seed = NewEvent::new("Opened", doc! {}).with_id("seed");
    live.block_on(store.append_to_stream(stream, vec![seed], ExpectedVersion::NoStream)).expect("the first append");
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let store = store.clone();
            live.runtime().spawn(async move {
                let (mut acked, mut refused, mut expected) = (Vec::new(), 0, 1);
                for i in 0..2_000 {
                    let id = format!("w{w}-{i}");
                    let event = NewEvent::new("Posted", doc! { "w": w }).with_id(id.clone());
                    match store.append_to_stream(stream, vec![event], ExpectedVersion::Exact(expected)).await {
                        Ok(r) => {
                            expected = r.next_expected_stream_version;
                            acked.push((id, expected));
                        }
                        Err(Error::ConcurrencyConflict { actual: Some(actual), .. }) => expected = actual,
                        Err(Error::StreamArchived { .. }) => {
                            refused += 1;
                            break;
                        }
                        Err(e) => panic!("writer {w}: an untyped outcome: {e}"),
                    }
                }
                (acked, refused)
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let archived = live.block_on(store.archive_stream(stream, ExpectedVersion::Any)).expect("the archive");
    let results: Vec<_> = tasks.into_iter().map(|t| live.block_on(t).expect("a writer")).collect();
    let copy = live.block_on(store.read_archived_stream(stream, ReadRange::all())).expect("the archive copy");
    assert_eq!(copy.current_stream_version, archived.stream_position);
    let positions: Vec<u64> = copy.events.iter().map(|e| e.metadata.stream_position).collect();
    assert_eq!(positions, (1..=archived.stream_position).collect::<Vec<_>>(), "positions are contiguous");
    let mut acknowledged = 0;
    for (acked, refused) in &results {
        assert_eq!(*refused, 1, "every writer ends told that the stream is archived");
        for (id, position) in acked {
            acknowledged += 1;
            let held = &copy.events[*position as usize - 1];
            assert_eq!(&held.metadata.event_id, id, "acknowledged {id} is in the archive at {position}");
        }
    }
    assert_eq!(acknowledged + 1, copy.events.len(), "nothing but acknowledged events is archived");
    assert_eq!(live.block_on(store.stream_status(stream)).expect("a status").state, StreamState::Archived);
    streamdoc_tests::report!(
        "archive race on {}: {writers} writers, {acknowledged} acknowledged appends before the seal, all in the \
         archive once at position {}; every writer then told StreamArchived",
        live.server(),
        archived.stream_position
    );
}
