//! `unionhall`: serve the API, migrate, print the spec, create admins, load demo data.

use clap::{Parser, Subcommand};
use std::net::TcpListener;
use std::process::ExitCode;
use unionhall_api::config::Config;
use unionhall_api::server::{self, StartError};
use unionhall_api::{bootstrap, demo, openapi};
use unionhall_domain::roles::Role;

#[derive(Parser)]
#[command(
    name = "unionhall",
    version,
    about = "UnionHall: the trade-union federation's service"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI spec, write it to a file, or check a file is current.
    Openapi {
        /// Write the spec here instead of printing it.
        #[arg(long, conflicts_with = "check")]
        output: Option<std::path::PathBuf>,
        /// Exit non-zero if this file differs from the spec the code generates.
        #[arg(long)]
        check: Option<std::path::PathBuf>,
    },
    /// Manage admin accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Load the demo data set (the Jiangxi federation's cities, counties and unions).
    Demo,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an admin bound to an organisation. The password comes from
    /// UNIONHALL_ADMIN_PASSWORD, or is read from standard input.
    Create {
        /// The organisation's code.
        #[arg(long)]
        org: String,
        #[arg(long)]
        username: String,
        /// `federation_admin` or `union_admin`.
        #[arg(long, default_value = "federation_admin")]
        role: String,
    },
}

/// Structured logs to stderr, written by a background thread so a slow terminal or
/// pipe never stalls a request. The guard flushes what is queued when `main` returns.
fn init_logging(config: &Config) -> tracing_appender::non_blocking::WorkerGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_env("UNIONHALL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // Not lossy: when the queue is full, requests wait rather than lose log lines. The
    // queue is allocated up front: 8,192 lines is seconds of backlog at full load, where
    // the default (128,000) would hold 4 MB for nothing.
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(8_192)
        .lossy(false)
        .finish(std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    if config.log_format == "json" {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
    guard
}

fn main() -> ExitCode {
    unionhall_api::malloc::tune();
    let cli = Cli::parse();
    if let Some(Command::Openapi { output, check }) = &cli.command {
        return spec_command(output.as_deref(), check.as_deref());
    }
    let config = match Config::load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let _log_guard = init_logging(&config);
    let command = cli.command.unwrap_or(Command::Serve);
    let result = if let Command::Serve = command {
        // actix runs its own runtimes: the system one here, one per worker thread.
        actix_web::rt::System::new().block_on(serve(config))
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(StartError::from)
            .and_then(|runtime| runtime.block_on(run_tool(command, config)))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// The commands other than `serve`.
async fn run_tool(command: Command, config: Config) -> Result<(), StartError> {
    match command {
        Command::Migrate => migrate(config).await,
        Command::Admin {
            command:
                AdminCommand::Create {
                    org,
                    username,
                    role,
                },
        } => admin_create(config, org, username, role).await,
        Command::Demo => load_demo(config).await,
        Command::Serve | Command::Openapi { .. } => Ok(()),
    }
}

fn spec_command(output: Option<&std::path::Path>, check: Option<&std::path::Path>) -> ExitCode {
    let spec = openapi::spec_json();
    if let Some(path) = check {
        return match std::fs::read_to_string(path) {
            Ok(committed) if committed == spec => ExitCode::SUCCESS,
            Ok(_) => {
                eprintln!(
                    "{} is stale: regenerate it with `unionhall openapi --output {}`",
                    path.display(),
                    path.display()
                );
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("can't read {}: {e}", path.display());
                ExitCode::FAILURE
            }
        };
    }
    if let Some(path) = output {
        if let Err(e) = std::fs::write(path, &spec) {
            eprintln!("can't write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        return ExitCode::SUCCESS;
    }
    print!("{spec}");
    ExitCode::SUCCESS
}

async fn serve(config: Config) -> Result<(), StartError> {
    let listener = TcpListener::bind(&config.bind).map_err(|e| {
        format!(
            "configuration: UNIONHALL_BIND: can't listen on {}: {e}",
            config.bind
        )
    })?;
    let state = server::prepare(config).await?;
    tracing::info!(address = %listener.local_addr()?, "UnionHall is serving");
    let running = server::serve(state.clone(), listener)?;
    let chores = actix_web::rt::spawn(server::housekeeping(state));
    running.await?;
    chores.abort();
    tracing::info!("stopped");
    Ok(())
}

async fn migrate(config: Config) -> Result<(), StartError> {
    let db = server::open_database(&config).await?;
    unionhall_persistence::migrate(&db).await?;
    println!("migrations applied");
    Ok(())
}

async fn admin_create(
    config: Config,
    org: String,
    username: String,
    role: String,
) -> Result<(), StartError> {
    let role: Role = role
        .parse()
        .map_err(|()| format!("--role: unknown role `{role}`"))?;
    if !role.administers() {
        return Err("--role: must be federation_admin or union_admin".into());
    }
    let password = match config.admin_password.clone() {
        Some(p) => p,
        None => {
            eprint!("password for {username}: ");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let db = server::open_database(&config).await?;
    unionhall_persistence::migrate(&db).await?;
    bootstrap::admin_create(&db, &org, &username, password, role).await
}

async fn load_demo(config: Config) -> Result<(), StartError> {
    let db = server::open_database(&config).await?;
    unionhall_persistence::migrate(&db).await?;
    bootstrap::first_start(&db, &config).await?;
    let pii = unionhall_api::pii::PiiCipher::from_hex(&bootstrap::pii_key(&config)?)
        .map_err(|e| format!("configuration: UNIONHALL_PII_KEY: {e}"))?;
    let report = demo::load(&db, &pii).await?;
    println!("{report}");
    Ok(())
}
