//! `cargo xtask play`: build what the playground needs, then serve it.

/// What the playground needs, and whether it exists yet.
const PARTS: &[(&str, &str)] = &[
    ("the wasm package (`cargo xtask wasm`)", "wasm/pkg/package.json"),
    ("the playground page", "web/index.html"),
];

pub(crate) fn run(_extra: &[String]) -> Result<(), String> {
    let root = crate::root();
    let missing: Vec<&str> = PARTS.iter().filter(|(_, path)| !root.join(path).exists()).map(|(what, _)| *what).collect();
    eprintln!("streamdoc playground");
    eprintln!("  `streamdoc serve` (the HTTP API on the embedded engine): not built yet");
    for what in &missing {
        eprintln!("  {what}: not built yet");
    }
    eprintln!("\nWhat works today: the core library and its in-memory engine; `cargo xtask test` runs every suite.");
    Err("the playground cannot be served until `streamdoc serve` exists".into())
}
