//! newsd's integration tests: one binary, modules per area, fixtures served from 127.0.0.1.

mod bad_input;
mod clean;
mod e2e;
mod faults;
mod server;
mod util;
