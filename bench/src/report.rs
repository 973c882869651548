//! The report's fragments: each benchmark writes a markdown section and its targets
//! into one directory; `streamdoc-bench report` assembles `docs/benchmarks.md`.
//!
//! The contract every benchmark (Rust, Node, the engine's `cargo bench`) keeps:
//! - `<dir>/<name>.md`: one section, starting with `## `.
//! - `<dir>/targets.jsonl`: one [`Target`] per line.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::BenchError;

/// One target of the issue, measured: met or missed.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Target {
    /// Which section measured it.
    pub section: String,
    /// The server it was measured on, when a server was involved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// What is aimed at, e.g. "the host within 1.10× of the bare driver".
    pub target: String,
    /// What was measured, e.g. "1.04×".
    pub measured: String,
    /// Whether the measure meets the target.
    pub met: bool,
}

/// The directory the fragments go to.
#[derive(Debug, Clone)]
pub struct Fragments {
    dir: PathBuf,
}

impl Fragments {
    /// Fragments in `dir` (created when missing).
    pub fn new(dir: impl Into<PathBuf>) -> Result<Fragments, BenchError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| BenchError::io(&dir, e))?;
        Ok(Fragments { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes section `name` (its text starts with `## `).
    pub fn section(&self, name: &str, markdown: &str) -> Result<(), BenchError> {
        let path = self.dir.join(format!("{name}.md"));
        std::fs::write(&path, markdown).map_err(|e| BenchError::io(&path, e))?;
        println!("{markdown}");
        Ok(())
    }

    /// Records a target, and prints it with met / missed.
    pub fn target(&self, target: Target) -> Result<(), BenchError> {
        let path = self.dir.join("targets.jsonl");
        let line = serde_json::to_string(&target).map_err(|e| BenchError::Report(e.to_string()))?;
        let mut f =
            std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(|e| BenchError::io(&path, e))?;
        writeln!(f, "{line}").map_err(|e| BenchError::io(&path, e))?;
        println!("{}", show(&target));
        Ok(())
    }

    /// The targets recorded so far.
    pub fn targets(&self) -> Result<Vec<Target>, BenchError> {
        let path = self.dir.join("targets.jsonl");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(BenchError::io(&path, e)),
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| BenchError::Report(format!("{}: {e}: {l}", path.display()))))
            .collect()
    }
}

/// `met    the host within 1.10× of the bare driver (FerretDB): 1.04×`.
pub fn show(t: &Target) -> String {
    let on = t.server.as_deref().map(|s| format!(" on {s}")).unwrap_or_default();
    format!("{:<6} {}{on}: {}", if t.met { "met" } else { "MISSED" }, t.target, t.measured)
}

/// A markdown table.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = format!("| {} |\n|{}\n", header.join(" | "), "---|".repeat(header.len()));
    for r in rows {
        s.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    s
}

/// A file-name slug of a server label: `mongo-java-server 1.47.0` → `mongo-java-server-1-47-0`.
///
/// ```
/// assert_eq!(streamdoc_bench::report::slug("FerretDB v1.24.2"), "ferretdb-v1-24-2");
/// ```
pub fn slug(label: &str) -> String {
    let mut s = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    s.trim_matches('-').to_owned()
}
