//! The `rolecall` binary.

use clap::Parser;

#[tokio::main]
async fn main() {
    rolecall::logging::init();
    let cli = rolecall::cli::Cli::parse();
    match rolecall::cli::run(cli).await {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("rolecall: {e}");
            std::process::exit(1);
        }
    }
}
