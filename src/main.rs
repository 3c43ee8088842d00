//! The `newsd` binary: parse the command line, run the command, map errors to exit codes
//! (0 ok, 1 runtime failure, 2 configuration or usage problem).

use std::io::Write;

use clap::Parser;

fn main() {
    let cli = newsd::cli::Cli::parse();
    if let Err(e) = newsd::cli::dispatch(&cli) {
        let code = e.downcast_ref::<newsd::cli::Exit>().map_or(1, |x| x.code);
        // Not `eprintln!`: with stderr closed it would panic and turn the exit code into 101.
        let _ = writeln!(std::io::stderr(), "newsd: error: {e:#}");
        std::process::exit(code);
    }
}
