// Break it: the append's design, switchable. streamdoc's real design (what an
// `EventStore` runs, the only one it can run) and five deliberately broken ones that
// exist in the package's Simulation only, each with the invariant it breaks and the
// race that shows it.
import type { DesignInfo } from "streamdoc";
import { designs } from "../features";
import { packageRace, raceStateOf } from "../package-races";
import { setRace } from "../state";
import { opened, resetFaults } from "./explorer";
import type { DesignSlotProps } from "./racelab-slots";

function infos(): DesignInfo[] {
  return designs();
}

export function Designs({ race, setDesign }: DesignSlotProps) {
  const list = infos();
  const current = list.find((d) => d.id === race.design) ?? list[0];
  const scenario = current?.scenario ? packageRace(current.scenario) : undefined;
  const elsewhere = current && current.breaks !== null && scenario && race.from !== scenario.id;
  return (
    <span class="designs" data-mount="designs">
      <label>
        Break it: design{" "}
        <select
          id="design"
          value={race.design}
          onChange={(e) => {
            resetFaults();
            opened.value = null;
            const id = e.currentTarget.value;
            // A race of the package keeps its schedule worth stepping (and its lost replies).
            const again = race.from !== undefined ? raceStateOf(race.from, id) : null;
            if (again) setRace(again, "push");
            else setDesign(id);
          }}
        >
          {list.map((d) => (
            <option key={d.id} value={d.id}>
              {d.title} — {d.breaks === null ? "production" : "deliberately broken"}
            </option>
          ))}
        </select>
      </label>
      {current && (
        <span class={`design-info ${current.breaks === null ? "ok" : "broken"}`} id="design-info">
          {current.breaks === null ? (
            <>
              <strong>production</strong>: {current.summary}
            </>
          ) : (
            <>
              <strong>deliberately broken</strong> (exists only in the simulator, never reachable from an EventStore):{" "}
              {current.summary} It breaks <code>{current.breaks}</code>
              {current.needsFaults ? ", when a reply is lost (the explorer loses one)" : ""}.
            </>
          )}
          {elsewhere && (
            <button
              type="button"
              id="open-design-scenario"
              class="quiet"
              onClick={() => {
                const next = raceStateOf(scenario.id, current.id);
                if (next) setRace(next, "push");
              }}
            >
              open “{scenario.title}”, the race that shows it
            </button>
          )}
        </span>
      )}
    </span>
  );
}
