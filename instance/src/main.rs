//! `authstack-instance`: run an instance, import users, print the OpenAPI document.

fn main() -> anyhow::Result<()> {
    authstack_instance::cli::main()
}
