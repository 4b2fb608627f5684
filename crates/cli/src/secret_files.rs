//! Secrets from files (the Docker secrets and systemd `LoadCredential=` convention): each
//! secret setting `ROSTER_X` may instead be given as `ROSTER_X_FILE`, naming a file that
//! holds the value. Giving both is an error naming both; a file any user may read is a
//! warning. Only `config.rs` calls this, while it reads the environment.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Result, bail};

/// The settings whose value is a secret (or, for the database URL, may hold a password).
/// A name that is not a setting of this build is skipped.
pub const SECRET_SETTINGS: &[&str] = &[
    "secret_key",
    "xero_client_secret",
    "oidc_client_secret",
    "database_url",
];

/// A file's text and whether every user may read it.
pub struct FileRead {
    pub text: String,
    pub world_readable: bool,
}

/// Replaces each `ROSTER_X_FILE` of `env` by `ROSTER_X` holding the file's contents (one
/// trailing newline dropped, as `echo` and editors add one); answers the warnings.
pub fn resolve(
    env: &mut BTreeMap<String, String>,
    is_setting: impl Fn(&str) -> bool,
    read: impl Fn(&Path) -> std::io::Result<FileRead>,
) -> Result<Vec<String>> {
    let mut warnings = Vec::new();
    for key in SECRET_SETTINGS.iter().filter(|k| is_setting(k)) {
        let name = format!("ROSTER_{}", key.to_ascii_uppercase());
        let file_name = format!("{name}_FILE");
        let Some(path) = env.remove(&file_name) else {
            continue;
        };
        if env.contains_key(&name) {
            bail!("both {name} and {file_name} are set: keep one of them");
        }
        let path = Path::new(path.trim());
        let read = read(path)
            .map_err(|e| anyhow::anyhow!("{file_name}: cannot read {}: {e}", path.display()))?;
        if read.world_readable {
            warnings.push(format!(
                "{file_name}: {} is readable by every user of this machine; make it readable by Roster's user only (chmod 600)",
                path.display()
            ));
        }
        let value = read
            .text
            .strip_suffix('\n')
            .map_or(read.text.as_str(), |v| v.strip_suffix('\r').unwrap_or(v))
            .to_owned();
        if value.trim().is_empty() {
            bail!("{file_name}: {} is empty", path.display());
        }
        env.insert(name, value);
    }
    Ok(warnings)
}

/// Reads a secret file from disk, noting whether its mode lets every user read it.
pub fn read_file(path: &Path) -> std::io::Result<FileRead> {
    let text = std::fs::read_to_string(path)?;
    #[cfg(unix)]
    let world_readable = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)?.permissions().mode() & 0o004 != 0
    };
    #[cfg(not(unix))]
    let world_readable = false;
    Ok(FileRead {
        text,
        world_readable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn files(path: &Path) -> std::io::Result<FileRead> {
        match path.to_str() {
            Some("/run/credentials/roster/key") => Ok(FileRead {
                text: "a2V5LWZyb20tYS1maWxl\n".to_owned(),
                world_readable: false,
            }),
            Some("/etc/roster/db-url") => Ok(FileRead {
                text: "postgres://roster:pw@db/roster\r\n".to_owned(),
                world_readable: true,
            }),
            _ => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such file",
            )),
        }
    }

    #[test]
    fn a_file_setting_becomes_the_setting_without_its_newline() {
        let mut e = env(&[
            ("ROSTER_SECRET_KEY_FILE", "/run/credentials/roster/key"),
            ("ROSTER_DATABASE_URL_FILE", "/etc/roster/db-url"),
        ]);
        let warnings = resolve(&mut e, |_| true, files).unwrap();
        assert_eq!(e["ROSTER_SECRET_KEY"], "a2V5LWZyb20tYS1maWxl");
        assert_eq!(e["ROSTER_DATABASE_URL"], "postgres://roster:pw@db/roster");
        assert!(!e.contains_key("ROSTER_SECRET_KEY_FILE"));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("ROSTER_DATABASE_URL_FILE"),
            "{warnings:?}"
        );
        assert!(
            !warnings[0].contains("pw@"),
            "never the value: {warnings:?}"
        );
    }

    #[test]
    fn both_the_variable_and_its_file_is_an_error_naming_both() {
        let mut e = env(&[
            ("ROSTER_XERO_CLIENT_SECRET", "x"),
            (
                "ROSTER_XERO_CLIENT_SECRET_FILE",
                "/run/credentials/roster/key",
            ),
        ]);
        let err = resolve(&mut e, |_| true, files).unwrap_err().to_string();
        assert!(
            err.contains("ROSTER_XERO_CLIENT_SECRET and ROSTER_XERO_CLIENT_SECRET_FILE"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_file_names_the_setting_and_a_non_secret_setting_has_no_file_form() {
        let mut e = env(&[("ROSTER_SECRET_KEY_FILE", "/nowhere")]);
        let err = resolve(&mut e, |_| true, files).unwrap_err().to_string();
        assert!(
            err.contains("ROSTER_SECRET_KEY_FILE") && err.contains("/nowhere"),
            "{err}"
        );
        let mut e = env(&[("ROSTER_LISTEN_FILE", "/run/credentials/roster/key")]);
        resolve(&mut e, |_| true, files).unwrap();
        assert!(
            !e.contains_key("ROSTER_LISTEN"),
            "only secrets have a _FILE form"
        );
    }
}
