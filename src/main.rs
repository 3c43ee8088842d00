//! The `newsd` binary: parse the command line, run the command, map errors to exit codes
//! (0 ok, 1 runtime failure, 2 configuration or usage problem, 3 damaged store).

use std::io::Write;

use clap::Parser;

fn main() {
    let cli = newsd::cli::Cli::parse();
    if let Err(e) = newsd::cli::dispatch(&cli) {
        let code = newsd::cli::exit_code(&e);
        // Not `eprintln!`: with stderr closed it would panic and turn the exit code into 101.
        let _ = writeln!(std::io::stderr(), "newsd: error: {e:#}");
        std::process::exit(code);
    }
}
