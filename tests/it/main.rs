//! newsd's integration tests: one binary, modules per area, fixtures served from 127.0.0.1.

mod bad_input;
mod broken_pipe;
mod e2e;
mod faults;
mod ops;
mod server;
mod util;
