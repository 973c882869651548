// The broken designs, lost replies and the sliced explorer through the built package.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Explorer, Simulation, designs, races } from "streamdoc";

const explore = (sim, options) => {
  const explorer = new Explorer(sim, options);
  let slices = 0;
  while (!explorer.run(20)) slices += 1;
  const report = explorer.report();
  explorer.free();
  return { report, slices };
};
const broken = (report) =>
  Object.entries(report.invariants)
    .filter(([, i]) => i.violatedIn > 0)
    .map(([kind]) => kind);

test("every broken design breaks the invariant it names on its race, with an explained shortest counterexample", () => {
  const all = designs();
  assert.equal(all[0].id, "streamdoc");
  assert.equal(all[0].breaks, null);
  for (const design of all.slice(1)) {
    const race = races().find((r) => r.id === design.scenario);
    assert.ok(race, design.scenario);
    const sim = Simulation.fromRace(race.id, { design: design.id });
    const { report } = explore(sim, { faults: design.needsFaults ? 1 : 0 });
    assert.ok(broken(report).includes(design.breaks), `${design.id}: ${broken(report)}`);
    const shortest = report.invariants[design.breaks].shortest;
    assert.ok(shortest.explanation.includes(design.because), shortest.explanation);
    assert.equal(typeof shortest.violation.message, "string");
    // Replaying the counterexample's path breaks the invariant again.
    const replay = Simulation.fromRace(race.id, { design: design.id });
    replay.runPath(shortest.path);
    assert.ok(replay.checkInvariants().some((v) => v.kind === design.breaks));
  }
});

test("streamdoc's design holds every invariant over every schedule of every race but one, with a lost reply", () => {
  for (const race of races()) {
    const faults = race.id === "read-then-append" ? 0 : 1;
    const { report } = explore(Simulation.fromRace(race.id), { faults, limit: Number.MAX_SAFE_INTEGER });
    assert.deepEqual(broken(report), [], race.id);
    assert.equal(report.truncated, false);
    assert.ok(Object.values(report.invariants).every((i) => typeof i.invariant === "string"));
  }
});

test("the four writers: every schedule counted, with coverage a sceptic can check", () => {
  const { report, slices } = explore(Simulation.fromRace("four-writers"), {});
  assert.equal(report.schedules, 43920);
  assert.ok(slices > 5);
  assert.ok(report.states < report.schedules / 4, `${report.states} states`);
  assert.equal(report.coverage.conflicts, 43920, "three of four writers lose in every schedule");
  assert.equal(report.coverage.duplicateKeys, 43920);
  const states = Object.values(report.finalStates);
  assert.equal(states.length, 4, "each writer wins in some schedules");
  assert.equal(states.reduce((n, s) => n + s.count, 0), 43920);
  assert.deepEqual(Object.values(report.outcomes).reduce((a, b) => a + b), 43920);
});

test("a lost reply is shown in the trace and retried once with the same event ids", () => {
  const race = races().find((r) => r.id === "lost-reply");
  const sim = Simulation.fromRace("lost-reply");
  sim.step(0);
  sim.step(0, { loseReply: true });
  const [index, write] = sim.trace();
  assert.equal(index.lost, false);
  assert.equal(write.lost, true);
  assert.match(write.reply, /upsertedId/, "the server's reply is shown, though the client never got it");
  sim.runToEnd();
  const a = sim.outcomes().find((o) => o.client === 0);
  assert.equal(a.attempts, 2);
  assert.equal(a.result.ok.nextExpectedStreamVersion, 1n);
  assert.deepEqual(sim.tally().retries, 1);
  assert.deepEqual(sim.checkInvariants(), []);
  assert.deepEqual(race.lost, [1]);

  const blind = Simulation.fromRace("lost-reply", { design: "blindRetry" });
  blind.runPath({ schedule: race.schedule, lost: race.lost });
  assert.deepEqual(
    blind.checkInvariants().map((v) => v.kind),
    ["duplicatedEvent"],
  );
});

test("bad options are refused with a clear error", () => {
  assert.throws(() => new Simulation({ clients: [], design: "noIndex" }), (e) => e instanceof TypeError && /"noUniqueIndex"/.test(e.message));
  assert.throws(() => Simulation.fromRace("nope"), (e) => e instanceof TypeError && /racing-first-append/.test(e.message));
  const sim = Simulation.fromRace("racing-first-append");
  assert.throws(() => sim.step(0, { lose: true }), TypeError);
  assert.throws(() => sim.step(0, { loseReply: "yes" }), TypeError);
  assert.throws(() => new Explorer(sim, { faults: -1 }), TypeError);
  assert.throws(() => sim.runPath({ schedule: [7] }), RangeError);
  assert.deepEqual(sim.trace(), [], "a refused step changes nothing");
});
