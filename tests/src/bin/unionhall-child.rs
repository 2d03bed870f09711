//! The real app in a process of its own, for tests that kill it: settings come from
//! the `UNIONHALL_*` environment (and optional file) exactly as for `unionhall serve`,
//! the app is prepared (migrations, first start) and served the same way, and once
//! it is ready one line goes to standard output: `listening on http://ADDR` (so
//! `UNIONHALL_BIND=127.0.0.1:0` works). Nothing is logged.

use std::io::Write;
use std::net::TcpListener;
use std::process::ExitCode;
use unionhall_api::config::Config;
use unionhall_api::server::{self, StartError};

fn main() -> ExitCode {
    let config = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    // As `unionhall serve` runs: actix's system runtime, one more per worker thread.
    match actix_web::rt::System::new().block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("unionhall-child: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<(), StartError> {
    let listener = TcpListener::bind(&config.bind)?;
    let address = listener.local_addr()?;
    let state = server::prepare(config).await?;
    let running = server::serve(state, listener)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on http://{address}")?;
    out.flush()?;
    drop(out);
    running.await?;
    Ok(())
}
