//! The `onesheet` binary: parses the command line, loads the configuration, and runs a command.

mod admin;
mod cache;
mod cli;
mod config;
mod housekeeping;
mod images;
mod logging;
mod serve;

use std::process::ExitCode;

use clap::Parser;
use tracing::{debug, error, info};

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let loaded = config::process_env().and_then(|env| config::load(cli.config.as_deref(), env));
    let mut loaded = match loaded {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("onesheet: {error}");
            return ExitCode::from(2);
        }
    };
    if let Some(format) = cli.log_format {
        loaded.override_log_format(format);
    }

    match cli.command {
        cli::Command::Config(cli::ConfigCommand::Check) => {
            print!("{}", config::render_check(&loaded));
            ExitCode::SUCCESS
        }
        cli::Command::Config(cli::ConfigCommand::SettingsSchema) => {
            let schema = onesheet_domain::settings::schema::settings_schema();
            match serde_json::to_string_pretty(&schema) {
                Ok(text) => {
                    println!("{text}");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("onesheet: cannot write the settings schema: {error}");
                    ExitCode::FAILURE
                }
            }
        }
        cli::Command::Cache(command) => match cache::run(&loaded.config, &command) {
            Ok(report) => {
                print!("{report}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("onesheet: {error:#}");
                ExitCode::FAILURE
            }
        },
        cli::Command::Admin(cli::AdminCommand::ResetPassword {
            username,
            disable_totp,
        }) => {
            let request = admin::ResetPassword {
                username,
                disable_totp,
            };
            run_admin(&loaded.config, &request)
        }
        cli::Command::Serve => run_server(loaded),
    }
}

fn run_admin(config: &config::Config, request: &admin::ResetPassword) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("onesheet: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let stdin = std::io::stdin().lock();
    match runtime.block_on(admin::reset_password(config, request, stdin)) {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("onesheet: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_server(loaded: config::LoadedConfig) -> ExitCode {
    let logs = match logging::init(&loaded.config.log) {
        Ok(logs) => logs,
        Err(error) => {
            eprintln!("onesheet: {error}");
            return ExitCode::from(2);
        }
    };
    match &loaded.file {
        Some(path) => {
            info!(config.file = %path.display(), version = env!("CARGO_PKG_VERSION"), "starting Onesheet")
        }
        None => info!(
            version = env!("CARGO_PKG_VERSION"),
            "starting Onesheet without a configuration file"
        ),
    }

    // One malloc arena per core instead of glibc's default of eight per core, because each arena
    // keeps the memory freed in it, and a media server's refresh frees tens of megabytes across
    // the worker and blocking threads. Set before the runtime starts them, because a thread
    // keeps its arena.
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if onesheet_sources::memory::limit_arenas(cores) {
        debug!(arenas = cores, "malloc arenas limited");
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("onesheet: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve::run(loaded.config, logs)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            // The logger writes to stderr, so this one line is the message the user gets.
            error!(
                error = format!("{failure:#}"),
                "Onesheet stopped on an error"
            );
            ExitCode::FAILURE
        }
    }
}
