#[tokio::main]
async fn main() -> std::process::ExitCode {
    strata_server::cli::run().await
}
