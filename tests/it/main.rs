//! newsd's integration tests: one binary, modules per area, fixtures served from 127.0.0.1.

mod bad_input;
mod e2e;
mod faults;
mod kill;
mod server;
mod store_tools;
mod util;
