//! `Explorer`, `designs()` and `races()`: core's exhaustive exploration in JavaScript,
//! a slice at a time, with its counterexamples explained.

use js_sys::Array;
use streamdoc_core::sim::{self, invariants, Design, Exploration, ExploreOptions, Path, Simulation};
use wasm_bindgen::prelude::*;

use crate::error::{self, Guard};
use crate::js::{check_options, get, json_to_js, set, to_u64, type_error};
use crate::ops;
use crate::sim::{JsSimulation, Target};
use crate::values::Values;

/// An exploration of a simulation's schedules, and the simulation it started from
/// (replayed to explain each counterexample).
#[derive(Debug)]
pub(crate) struct Exploring {
    base: Simulation<Target>,
    explorer: sim::Explorer<Target>,
}

impl Exploring {
    /// Reads `{ limit, faults }`.
    pub(crate) fn new(base: &Simulation<Target>, options: &JsValue) -> Result<Self, JsValue> {
        let mut explore = ExploreOptions::default();
        if !(options.is_undefined() || options.is_null()) {
            check_options(options, &["limit", "faults"], "explore options")?;
            let limit = get(options, "limit");
            if !(limit.is_undefined() || limit.is_null()) {
                explore.limit = to_u64(&limit, "options.limit")?;
            }
            let faults = get(options, "faults");
            if !(faults.is_undefined() || faults.is_null()) {
                explore.faults = u32::try_from(to_u64(&faults, "options.faults")?)
                    .map_err(|_| js_sys::RangeError::new("options.faults is too large"))?;
            }
        }
        Ok(Self { base: base.clone(), explorer: sim::Explorer::new(base, explore) })
    }

    pub(crate) fn run_to_end(&mut self) {
        self.explorer.run(u64::MAX);
    }

    /// The report as JavaScript: core's serde form, each violation with its message,
    /// each invariant in words, each shortest counterexample explained.
    pub(crate) fn report_js(&self) -> JsValue {
        report_js(&self.base, self.explorer.report(), self.explorer.states())
    }
}

fn report_js(base: &Simulation<Target>, report: &Exploration, states: u64) -> JsValue {
    let mut json = serde_json::to_value(report).unwrap_or_default();
    json["states"] = serde_json::Value::from(states);
    let with_message = |v: &invariants::Violation| {
        let mut value = serde_json::to_value(v).unwrap_or_default();
        value["message"] = serde_json::Value::String(v.to_string());
        value
    };
    if let Some(list) = json.get_mut("violations").and_then(|v| v.as_array_mut()) {
        for (entry, found) in list.iter_mut().zip(&report.violations) {
            entry["violation"] = with_message(&found.violation);
        }
    }
    for (kind, invariant) in &report.invariants {
        let entry = &mut json["invariants"][kind];
        entry["invariant"] = serde_json::Value::String(invariants::Violation::invariant(kind).to_owned());
        if let Some(found) = &invariant.shortest {
            let mut replay = base.clone();
            let explanation = match replay.run_path(&found.path) {
                Ok(()) => sim::explain(&replay, &found.violation),
                Err(e) => format!("the counterexample could not be replayed: {e}"),
            };
            entry["shortest"]["violation"] = with_message(&found.violation);
            entry["shortest"]["explanation"] = serde_json::Value::String(explanation);
        }
    }
    json_to_js(&json)
}

/// A path given as `{ schedule, lost }`.
pub(crate) fn path_from_js(v: &JsValue) -> Result<Path, JsValue> {
    check_options(v, &["schedule", "lost"], "path")?;
    let indexes = |key: &str| -> Result<Vec<usize>, JsValue> {
        let list = get(v, key);
        if list.is_undefined() && key == "lost" {
            return Ok(Vec::new());
        }
        if !Array::is_array(&list) {
            return Err(type_error(format!("path.{key} must be an array of step indexes")));
        }
        list.unchecked_into::<Array>().iter().map(|i| to_u64(&i, &format!("path.{key}")).map(|i| i as usize)).collect()
    };
    Ok(Path { schedule: indexes("schedule")?, lost: indexes("lost")? })
}

/// The JavaScript `Explorer` (types in the simulation's section).
#[wasm_bindgen(js_name = Explorer, skip_typescript)]
#[derive(Debug)]
pub struct JsExplorer {
    exploring: Exploring,
    guard: Guard,
}

#[wasm_bindgen(js_class = Explorer)]
impl JsExplorer {
    #[wasm_bindgen(constructor)]
    pub fn new(simulation: &JsSimulation, options: JsValue) -> Result<JsExplorer, JsValue> {
        let _call = error::enter_free()?;
        let sim = simulation.sim.borrow();
        if let Target::Elsewhere = sim.executor() {
            return Err(type_error("an Explorer needs the in-memory engine; this simulation runs on options.executor"));
        }
        Ok(JsExplorer { exploring: Exploring::new(&sim, &options)?, guard: Guard::new("Explorer") })
    }

    pub fn run(&mut self, budget: f64) -> Result<bool, JsValue> {
        let _call = error::enter(&self.guard)?;
        let budget = to_u64(&JsValue::from_f64(budget), "budget")?;
        Ok(self.exploring.explorer.run(budget))
    }

    #[wasm_bindgen(getter)]
    pub fn schedules(&self) -> f64 {
        self.exploring.explorer.report().schedules as f64
    }

    #[wasm_bindgen(getter)]
    pub fn states(&self) -> f64 {
        self.exploring.explorer.states() as f64
    }

    pub fn report(&self) -> Result<JsValue, JsValue> {
        let _call = error::enter(&self.guard)?;
        Ok(self.exploring.report_js())
    }
}

/// Every design, streamdoc's first.
#[wasm_bindgen(skip_typescript)]
pub fn designs() -> Array {
    Design::ALL.iter().map(|d| json_to_js(&serde_json::to_value(d.info()).unwrap_or_default())).collect()
}

/// The gallery's races, their operations in the form `Simulation` takes.
#[wasm_bindgen(skip_typescript)]
pub fn races() -> Array {
    sim::races()
        .iter()
        .map(|race| {
            let mut json = serde_json::to_value(race).unwrap_or_default();
            if let Some(object) = json.as_object_mut() {
                object.remove("setup");
                object.remove("clients");
            }
            let value: js_sys::Object = json_to_js(&json).unchecked_into();
            let specs = |list: &[streamdoc_core::OpSpec]| -> Array {
                list.iter().map(|spec| ops::op_spec_to_js(spec, Values::Native)).collect()
            };
            set(&value, "setup", &specs(&race.setup));
            let clients: Array = race
                .clients
                .iter()
                .map(|c| {
                    let client = js_sys::Object::new();
                    set(&client, "name", &JsValue::from_str(&c.name));
                    set(&client, "ops", &specs(&c.ops));
                    JsValue::from(client)
                })
                .collect();
            set(&value, "clients", &clients);
            JsValue::from(value)
        })
        .collect()
}
