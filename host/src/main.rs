//! The `streamdoc` command line.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("--help" | "-h" | "help") => {
            println!("streamdoc {}\n", env!("CARGO_PKG_VERSION"));
            println!("USAGE: streamdoc <COMMAND>\n");
            println!("COMMANDS:\n  serve    (not built yet) serve the playground and the HTTP API");
        }
        Some(other) => {
            eprintln!("streamdoc: `{other}` is not available yet; see `streamdoc --help`");
            std::process::exit(2);
        }
    }
}
