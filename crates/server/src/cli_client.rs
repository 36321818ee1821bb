//! Management commands as HTTP clients of a running server, with tables or `--json`.

use crate::error::Result;

#[derive(Debug, clap::Subcommand)]
pub enum RemoteCommand {}

pub async fn run(cmd: RemoteCommand) -> Result<i32> {
    match cmd {}
}
