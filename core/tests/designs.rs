//! The broken designs break what they should, the real one holds everywhere, lost
//! replies are retried exactly once, and the counterexamples are the shortest.

use streamdoc_core::sim::{
    explain, races, Design, Exploration, ExploreOptions, Explorer, Path, Race, Simulation, Violation,
};
use streamdoc_core::{Engine, OpOutput};

fn explore_race(race: &Race, design: Design) -> (Simulation<Engine>, Exploration) {
    let sim = race.simulation(design).expect("the race builds");
    let faults = race.faults.max(u32::from(design.info().needs_faults));
    let mut explorer = Explorer::new(&sim, ExploreOptions { limit: u64::MAX, faults });
    assert!(explorer.run(u64::MAX));
    let report = explorer.into_report();
    assert!(!report.truncated, "{} under {design:?} was cut short", race.id);
    (sim, report)
}

fn broken(report: &Exploration) -> Vec<&str> {
    report.invariants.iter().filter(|(_, i)| i.violated_in > 0).map(|(k, _)| k.as_str()).collect()
}

#[test]
fn the_real_design_holds_every_invariant_on_every_race_with_and_without_lost_replies() {
    for race in races() {
        // An append with no expected version cannot tell its own events from another
        // writer's after a lost reply: its retry appends again (see the next test).
        let faults: &[u32] = if race.id == "read-then-append" { &[0] } else { &[0, 1] };
        for &faults in faults {
            let sim = race.simulation(Design::Streamdoc).unwrap();
            let mut explorer = Explorer::new(&sim, ExploreOptions { limit: u64::MAX, faults });
            explorer.run(u64::MAX);
            let report = explorer.report();
            assert!(report.schedules > 0 && !report.truncated, "{}", race.id);
            let violations = &report.violations;
            assert_eq!(broken(report), Vec::<&str>::new(), "{} with {faults} faults: {violations:?}", race.id);
            assert_eq!(report.invariants.len(), Violation::KINDS.len());
            if faults == 1 {
                assert!(report.coverage.lost_replies > 0 && report.coverage.retries > 0, "{}", race.id);
            }
        }
    }
}

#[test]
fn each_broken_design_breaks_its_invariant_on_its_race_and_explains_the_counterexample() {
    for design in Design::ALL.into_iter().filter(|d| *d != Design::Streamdoc) {
        let info = design.info();
        let race = Race::named(info.scenario).expect("the design's race is in the gallery");
        let (sim, report) = explore_race(&race, design);
        let kind = info.breaks.expect("a broken design names what it breaks");
        let invariant = &report.invariants[kind];
        assert!(invariant.violated_in > 0, "{design:?} on {}: {:?}", race.id, report.invariants);
        let shortest = invariant.shortest.clone().expect("a counterexample");
        // The shortest among the schedules that break it.
        let shortest_len = report
            .violations
            .iter()
            .filter(|c| c.violation.kind() == kind)
            .map(|c| c.path.schedule.len())
            .min()
            .unwrap();
        assert!(shortest.path.schedule.len() <= shortest_len);
        // Replaying it reproduces the violation, and the sentence tells it.
        let mut replay = sim.clone();
        replay.run_path(&shortest.path).unwrap();
        let found = streamdoc_core::sim::invariants::check(&replay);
        assert!(found.contains(&shortest.violation), "{design:?}: {found:?}");
        let sentence = explain(&replay, &shortest.violation);
        assert!(sentence.contains(&info.because[..20]), "{design:?}: {sentence}");
        assert!(sentence.contains("order:42") || sentence.contains("cart:7"), "{design:?}: {sentence}");
    }
}

#[test]
fn an_append_with_no_expected_version_is_not_idempotent_after_a_lost_reply() {
    let race = Race::named("read-then-append").unwrap();
    let sim = race.simulation(Design::Streamdoc).unwrap();
    let mut explorer = Explorer::new(&sim, ExploreOptions { limit: u64::MAX, faults: 1 });
    explorer.run(u64::MAX);
    assert_eq!(broken(explorer.report()), vec!["duplicatedEvent"]);
}

#[test]
fn counterexamples_name_events_and_positions() {
    let race = Race::named("stale-writer").unwrap();
    let (sim, report) = explore_race(&race, Design::NoPositionInFilter);
    let c = report.invariants["positionsNotContiguous"].shortest.clone().unwrap();
    // both writers step twice: index (already made by the setup? no: each client creates it), write
    assert_eq!(c.path.lost, Vec::<usize>::new());
    let mut replay = sim.clone();
    replay.run_path(&c.path).unwrap();
    let sentence = explain(&replay, &c.violation);
    assert!(
        sentence.starts_with(
            "cart:7 says it is at position 2, but its events are at positions [1, 2, 2]: position 2 holds both"
        ),
        "{sentence}"
    );
    assert!(sentence.contains("a's event a0-0") && sentence.contains("b's event b0-0"), "{sentence}");

    let race = Race::named("stale-writer").unwrap();
    let (sim, report) = explore_race(&race, Design::UpsertedCountCheck);
    let c = report.invariants["failedAppendVisible"].shortest.clone().unwrap();
    let mut replay = sim.clone();
    replay.run_path(&c.path).unwrap();
    let sentence = explain(&replay, &c.violation);
    assert!(
        sentence.contains("was reported as \"concurrency conflict on cart:7: expected 1, actual 2\""),
        "{sentence}"
    );
}

#[test]
fn a_lost_reply_is_retried_with_the_same_ids_and_succeeds_exactly_once() {
    let race = Race::named("lost-reply").unwrap();
    let mut sim = race.simulation(Design::Streamdoc).unwrap();
    sim.run_path(&Path { schedule: race.schedule.clone(), lost: race.lost.clone() }).unwrap();
    assert!(sim.trace().iter().any(|t| t.lost), "the reply was lost");
    let a = sim.outcomes().iter().find(|o| o.client == 0).unwrap();
    assert_eq!(a.attempts, 2);
    assert!(matches!(&a.result, Ok(OpOutput::Append(r)) if r.next_expected_stream_version == 1), "{:?}", a.result);
    let b = sim.outcomes().iter().find(|o| o.client == 1).unwrap();
    assert!(b.result.is_err(), "b lost the creation race to a's first attempt");
    assert!(streamdoc_core::sim::invariants::check(&sim).is_empty());
    assert_eq!(sim.tally().retries, 1);

    // The blind retry appends a's event a second time.
    let mut blind = race.simulation(Design::BlindRetry).unwrap();
    blind.run_path(&Path { schedule: race.schedule.clone(), lost: race.lost.clone() }).unwrap();
    let found = streamdoc_core::sim::invariants::check(&blind);
    assert!(
        found.iter().any(|v| matches!(v, Violation::DuplicatedEvent { event_id, .. } if event_id == "a0-0")),
        "{found:?}"
    );
    let sentence = explain(&blind, &found[0]);
    assert!(sentence.starts_with("a's event a0-0 is stored twice in order:42, at positions 1 and 2"), "{sentence}");
}

#[test]
fn without_retries_a_lost_reply_is_an_unknown_outcome_not_a_violation() {
    let mut race = Race::named("lost-reply").unwrap();
    race.retries = 0;
    let mut sim = race.simulation(Design::Streamdoc).unwrap();
    sim.run_path(&Path { schedule: vec![0, 0], lost: vec![1] }).unwrap();
    let a = sim.outcomes().iter().find(|o| o.client == 0).unwrap();
    assert!(a.result.as_ref().is_err_and(|e| e.outcome_unknown()), "{:?}", a.result);
    assert!(streamdoc_core::sim::invariants::check(&sim).is_empty());
}

#[test]
fn coverage_shows_the_race_happened() {
    let (_, report) = explore_race(&Race::named("racing-first-append").unwrap(), Design::Streamdoc);
    assert_eq!(report.schedules, 6);
    assert_eq!(report.coverage.conflicts, 6, "one writer loses in every schedule");
    assert_eq!(report.coverage.duplicate_keys, 6, "the second upsert always meets the unique index");
    assert_eq!(report.coverage.zero_matches, 0);
    assert_eq!(report.final_states.len(), 2);
    for state in report.final_states.values() {
        assert_eq!(state.shortest.schedule.len(), 5, "index, index, write, write, verify");
    }
    let (_, report) = explore_race(&Race::named("read-then-append").unwrap(), Design::Streamdoc);
    assert!(report.coverage.rewrites > 0, "{:?}", report.coverage);
}

#[test]
fn an_explorer_run_in_slices_finds_what_one_run_finds() {
    let race = Race::named("four-writers").unwrap();
    let sim = race.simulation(Design::Streamdoc).unwrap();
    let mut whole = Explorer::new(&sim, ExploreOptions::default());
    whole.run(u64::MAX);
    let mut sliced = Explorer::new(&sim, ExploreOptions::default());
    let mut slices = 0;
    while !sliced.run(5) {
        slices += 1;
    }
    assert!(slices > 10);
    assert_eq!(whole.report(), sliced.report());
    // index, write, and for each of the three losers a verifying read
    assert_eq!(whole.report().schedules, 43_920);
    assert!(whole.states() < 43_920 / 4, "the cache merges states: {}", whole.states());
}

#[test]
fn the_limit_truncates() {
    let sim = Race::named("four-writers").unwrap().simulation(Design::Streamdoc).unwrap();
    let mut explorer = Explorer::new(&sim, ExploreOptions { limit: 100, faults: 0 });
    assert!(explorer.run(u64::MAX));
    let report = explorer.report();
    assert!(report.schedules >= 100 && report.schedules < 43_920, "{}", report.schedules);
    assert!(report.truncated);
}

/// Five writers: every schedule, through the cache of states (the time is the benchmark's).
#[test]
fn five_writers_are_explored_completely() {
    let sim = Race::named("five-writers").unwrap().simulation(Design::Streamdoc).unwrap();
    let mut explorer = Explorer::new(&sim, ExploreOptions { limit: u64::MAX, faults: 0 });
    explorer.run(u64::MAX);
    let report = explorer.report();
    eprintln!("five writers: {} schedules, {} states", report.schedules, explorer.states());
    assert_eq!(report.schedules, 15_220_800);
    assert!(explorer.states() < 10_000);
    assert!(!report.truncated);
    assert!(report.invariants.values().all(|i| i.violated_in == 0));
}

/// Every schedule enumerated without the cache: outcome and violation counts.
fn brute_force(sim: &Simulation<Engine>, faults: u32) -> (u64, std::collections::BTreeMap<String, u64>) {
    fn walk(
        sim: &Simulation<Engine>,
        faults: u32,
        count: &mut u64,
        broken: &mut std::collections::BTreeMap<String, u64>,
    ) {
        let runnable = sim.runnable();
        if runnable.is_empty() {
            *count += 1;
            let mut kinds: Vec<&str> =
                streamdoc_core::sim::invariants::check(sim).iter().map(Violation::kind).collect();
            kinds.dedup();
            for k in kinds {
                *broken.entry(k.to_owned()).or_default() += 1;
            }
            return;
        }
        for c in runnable {
            let mut next = sim.clone();
            next.step(c).unwrap();
            walk(&next, faults, count, broken);
            let is_write = sim.pending(c).is_some_and(|cmd| {
                matches!(cmd, streamdoc_core::Command::UpdateOne { .. } | streamdoc_core::Command::InsertOne { .. })
            });
            if faults > 0 && is_write {
                let mut lost = sim.clone();
                lost.step_losing_reply(c).unwrap();
                walk(&lost, faults - 1, count, broken);
            }
        }
    }
    let (mut count, mut broken) = (0, std::collections::BTreeMap::new());
    walk(sim, faults, &mut count, &mut broken);
    (count, broken)
}

#[test]
fn the_cache_changes_no_count() {
    for (race, design, faults) in [
        ("stale-writer", Design::NoPositionInFilter, 0),
        ("racing-first-append", Design::DocumentPerEvent, 0),
        ("lost-reply", Design::BlindRetry, 1),
        ("shopping-cart", Design::Streamdoc, 1),
    ] {
        let sim = Race::named(race).unwrap().simulation(design).unwrap();
        let (count, broken) = brute_force(&sim, faults);
        let mut explorer = Explorer::new(&sim, ExploreOptions { limit: u64::MAX, faults });
        explorer.run(u64::MAX);
        let report = explorer.report();
        assert_eq!(report.schedules, count, "{race}");
        let counted: std::collections::BTreeMap<String, u64> = report
            .invariants
            .iter()
            .filter(|(_, i)| i.violated_in > 0)
            .map(|(k, i)| (k.clone(), i.violated_in))
            .collect();
        assert_eq!(counted, broken, "{race} under {design:?}");
    }
}

#[test]
fn every_race_suggests_a_whole_schedule_that_its_stepper_can_play_to_the_end() {
    for race in races() {
        let mut sim = race.simulation(Design::Streamdoc).unwrap();
        for (i, &client) in race.schedule.iter().enumerate() {
            assert!(!sim.is_finished(), "{}: the run ends before step {i} of its schedule", race.id);
            if race.lost.contains(&i) { sim.step_losing_reply(client) } else { sim.step(client) }
                .unwrap_or_else(|e| panic!("{}: step {i} (client {client}) is refused: {e}", race.id));
        }
        assert!(sim.is_finished(), "{}: its schedule stops before every client has finished", race.id);
    }
}
