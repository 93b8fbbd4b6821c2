//! Start-up failures a user can cause with a configuration file, run through the real binary.

use std::process::Command;

fn onesheet(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_onesheet"));
    command.args(args);
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("ONESHEET_")) {
        command.env_remove(key);
    }
    command.envs(env.iter().copied());
    let output = command.output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn toml_syntax_error_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("onesheet.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:9\"\nbase_path = \"/posters\n").unwrap();
    let path = file.to_str().unwrap();

    let (code, _, stderr) = onesheet(&["--config", path, "serve"], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(path), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(stderr.contains("column"), "{stderr}");
}

#[test]
fn unknown_key_suggests_the_closest_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("onesheet.toml");
    std::fs::write(&file, "lisen = \"127.0.0.1:9\"\n").unwrap();

    let (code, _, stderr) = onesheet(
        &["--config", file.to_str().unwrap(), "config", "check"],
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("\"lisen\""), "{stderr}");
    assert!(stderr.contains("did you mean \"listen\""), "{stderr}");
}

#[test]
fn config_check_shows_origins_and_masks_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("onesheet.toml");
    std::fs::write(&file, "base_path = \"/posters/\"\n").unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(
        &key_file,
        "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2\n",
    )
    .unwrap();

    let (code, stdout, stderr) = onesheet(
        &["--config", file.to_str().unwrap(), "config", "check"],
        &[
            ("ONESHEET_LISTEN", "127.0.0.1:9999"),
            ("ONESHEET_SECRET_KEY_FILE", key_file.to_str().unwrap()),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let line = |key: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no {key} line in {stdout}"))
            .to_owned()
    };
    assert!(line("listen").contains("env ONESHEET_LISTEN"), "{stdout}");
    assert!(line("base_path").contains("\"/posters\""), "{stdout}");
    assert!(line("base_path").contains("file "), "{stdout}");
    assert!(line("data_dir").contains("default"), "{stdout}");
    assert!(line("secret_key").contains("***"), "{stdout}");
    assert!(!stdout.contains("5ec2e7"), "{stdout}");
}

#[test]
fn occupied_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();

    let (code, _, stderr) = onesheet(
        &["serve"],
        &[
            ("ONESHEET_LISTEN", &address),
            ("ONESHEET_DATA_DIR", dir.path().to_str().unwrap()),
        ],
    );
    assert_ne!(code, 0);
    assert!(stderr.contains(&address), "{stderr}");
    assert!(stderr.contains("ONESHEET_LISTEN"), "{stderr}");
}
