//! newsd's integration tests: one binary, modules per area, fixtures served from 127.0.0.1.

// Tests print the figures they measure (soak, kill) and why they skip; the library may not.
#![allow(clippy::print_stderr, clippy::print_stdout)]

mod bad_input;
mod broken_pipe;
mod clean;
mod cluster;
mod e2e;
mod faults;
mod kill;
mod ops;
mod server;
mod site;
mod soak;
mod store_tools;
mod unattended;
mod util;
