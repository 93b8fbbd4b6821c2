//! The command line of the `onesheet` binary.
//!
//! Options here only choose where the configuration comes from and override the log format.
//! Everything else is set in the configuration file or `ONESHEET_*` variables, so that one
//! place lists the whole setup.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{CONFIG_PATH_VAR, LogFormat};

#[derive(Debug, Parser)]
#[command(name = "onesheet", version, about)]
pub struct Cli {
    /// Sets the TOML configuration file to read. Without it, ./onesheet.toml is read if it exists.
    #[arg(long, value_name = "PATH", env = CONFIG_PATH_VAR, global = true)]
    pub config: Option<PathBuf>,

    /// Sets the log line format, overriding log.format from the file and ONESHEET_LOG__FORMAT.
    #[arg(long, value_name = "FORMAT", value_enum, global = true)]
    pub log_format: Option<LogFormat>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum Command {
    /// Starts the HTTP server.
    Serve,
    /// Inspects the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Inspects or empties the disk cache of derived images.
    #[command(subcommand)]
    Cache(CacheCommand),
    /// Recovers admin access from the machine the server runs on.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum AdminCommand {
    /// Sets a new password for an admin, read from the first line of standard input, and ends
    /// the admin's sessions.
    ResetPassword {
        /// The admin to reset; needed only when there are several.
        #[arg(long)]
        username: Option<String>,
        /// Also turns two-factor authentication off, for a lost authenticator.
        #[arg(long)]
        disable_totp: bool,
    },
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum CacheCommand {
    /// Prints the disk cache's folder, entry count, size, limits and free space.
    Stats {
        /// Prints the figures as one JSON object instead of aligned text.
        #[arg(long)]
        json: bool,
    },
    /// Deletes every derived image from the disk cache. Originals are never touched; the
    /// server derives images again on the next requests.
    Clear,
}

#[derive(Debug, Subcommand, PartialEq, Eq)]
pub enum ConfigCommand {
    /// Validates the configuration and prints each key's effective value and origin.
    ///
    /// Exits with status 0 if the configuration is valid and 2 if it is not.
    Check,
    /// Prints the JSON Schema of the display settings document, with every default,
    /// description and limit, as `GET /api/v1/admin/settings/schema` returns it.
    SettingsSchema,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_serve_with_options() {
        let cli = Cli::try_parse_from([
            "onesheet",
            "--config",
            "/etc/onesheet.toml",
            "--log-format",
            "json",
            "serve",
        ])
        .unwrap();
        assert_eq!(cli.command, Command::Serve);
        assert_eq!(cli.config, Some(PathBuf::from("/etc/onesheet.toml")));
        assert_eq!(cli.log_format, Some(LogFormat::Json));
    }

    #[test]
    fn parses_config_check_with_trailing_option() {
        let cli =
            Cli::try_parse_from(["onesheet", "config", "check", "--log-format", "text"]).unwrap();
        assert_eq!(cli.command, Command::Config(ConfigCommand::Check));
        assert_eq!(cli.log_format, Some(LogFormat::Text));
    }

    #[test]
    fn parses_cache_commands() {
        let stats = Cli::try_parse_from(["onesheet", "cache", "stats", "--json"]).unwrap();
        assert_eq!(
            stats.command,
            Command::Cache(CacheCommand::Stats { json: true })
        );
        let clear = Cli::try_parse_from(["onesheet", "cache", "clear"]).unwrap();
        assert_eq!(clear.command, Command::Cache(CacheCommand::Clear));
    }

    #[test]
    fn parses_admin_reset_password() {
        let cli = Cli::try_parse_from([
            "onesheet",
            "admin",
            "reset-password",
            "--username",
            "alice",
            "--disable-totp",
        ])
        .unwrap();
        assert_eq!(
            cli.command,
            Command::Admin(AdminCommand::ResetPassword {
                username: Some("alice".to_owned()),
                disable_totp: true,
            })
        );
        // The password never comes from the command line.
        assert!(
            Cli::try_parse_from(["onesheet", "admin", "reset-password", "--password", "x"])
                .is_err()
        );
    }

    #[test]
    fn rejects_unknown_log_format() {
        let result = Cli::try_parse_from(["onesheet", "--log-format", "xml", "serve"]);
        assert!(result.is_err());
    }

    #[test]
    fn requires_a_command() {
        assert!(Cli::try_parse_from(["onesheet"]).is_err());
    }

    #[test]
    fn config_path_read_from_env() {
        let command = Cli::command();
        let config = command
            .get_arguments()
            .find(|arg| arg.get_id() == "config")
            .unwrap();
        assert_eq!(
            config.get_env(),
            Some(std::ffi::OsStr::new(CONFIG_PATH_VAR))
        );
    }
}
