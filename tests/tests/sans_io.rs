//! streamdoc-core stays sans-IO: nothing in its normal dependency tree does network or
//! async I/O, and it reads no clock or random source (the latter is enforced by clippy's
//! `disallowed-methods` in core/clippy.toml, which `cargo xtask test` runs with `-D warnings`).

use std::process::Command;

#[test]
fn core_dependency_tree_has_no_io_runtime_or_driver() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--package", "streamdoc-core", "--edges", "normal", "--prefix", "none", "--format", "{p}"])
        .args(["--target", "all"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(crates.contains(&"bson"), "the tree should list bson; got:\n{tree}");
    let forbidden = [
        "tokio",
        "mongodb",
        "axum",
        "hyper",
        "mio",
        "async-std",
        "futures",
        "reqwest",
        "socket2",
        "wasm-bindgen-futures",
    ];
    let found: Vec<_> = crates.iter().filter(|c| forbidden.contains(c)).collect();
    assert!(found.is_empty(), "streamdoc-core depends on {found:?}:\n{tree}");
}

#[test]
fn core_declares_no_random_source_of_its_own() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../core/Cargo.toml")).expect("manifest");
    let deps = manifest.split("[dependencies]").nth(1).and_then(|s| s.split("\n[").next()).unwrap_or_default();
    for name in ["rand", "getrandom", "uuid", "chrono", "time"] {
        assert!(
            !deps
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{name} "))
                    || l.trim_start().starts_with(&format!("{name}="))),
            "streamdoc-core must not depend on {name} directly"
        );
    }
}
