// ── MOUNT POINT for the explorer and the design picker ─────────────────────────────────
//
// The race lab renders <ExplorerSlot> below the stepper and <DesignSlot> in its toolbar.
// The explorer's integrator replaces the bodies of these two components (and nothing else
// in the race lab) with `views/explorer.tsx` (exhaustive exploration in `worker.ts`:
// live count, Stop, budget, invariants, final states, coverage) and `views/designs.tsx`.
//
// What they get (all of it is the session's, so it is in the share URL already):
// - `race`: the race as the session holds it (stream, clients and their scripts,
//   `design`, schedule, step, lost replies). `simulationOptions(race)` in ../race.ts turns
//   it into the package's `SimulationOptions` (the worker can build the same Simulation).
// - `openSchedule(schedule, lost?)`: opens a schedule (client indexes, e.g. a shortest
//   counterexample) in the stepper at its first step; pushes history.
// - `setDesign(id)`: switches the design (`designs()` ids); the schedule starts over.
// - `features` (../features.ts): whether the package has `designs()` and lost replies.
import type { RaceState } from "../session";
import { Designs } from "./designs";
import { Explorer } from "./explorer";

export interface ExplorerSlotProps {
  race: RaceState;
  openSchedule: (schedule: number[], lost?: number[]) => void;
}

export interface DesignSlotProps {
  race: RaceState;
  setDesign: (id: string) => void;
}

/** The explorer (views/explorer.tsx). */
export function ExplorerSlot(props: ExplorerSlotProps) {
  return <Explorer {...props} />;
}

/** The design picker (views/designs.tsx). */
export function DesignSlot(props: DesignSlotProps) {
  return <Designs {...props} />;
}
