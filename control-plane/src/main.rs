//! `authstack`: the control plane, the gateway, the all-in-one `dev` mode, operator commands,
//! and (`authstack instance ...`) the instance itself, which the local provisioner runs.

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "authstack",
    version,
    about = "AuthStack: dedicated authentication infrastructure per customer"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one AuthStack instance (what the local provisioner starts).
    #[command(subcommand)]
    Instance(authstack_instance::cli::Command),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Instance(command) => runtime.block_on(authstack_instance::cli::run(command)),
    }
}
