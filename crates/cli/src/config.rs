//! Configuration: a TOML file (`--config`) overridden by `ROSTER_*` environment variables,
//! parsed once into typed settings. This is the only module that reads the environment.
//!
//! Every setting has one name: `people_ttl` in TOML is `ROSTER_PEOPLE_TTL` in the
//! environment. An unknown TOML key or a malformed value is an error naming it; an unknown
//! `ROSTER_*` variable is a warning (it is usually a typo, but may belong to a test harness).
//! One variable from outside Roster is read too: `NO_COLOR` (no-color.org), for the logs.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use chrono::Duration;
use roster_domain::outbound::AllowList;
use roster_providers::ProviderUrls;
use serde::{Deserialize, Serialize};
use url::Url;

/// Provider endpoint settings, each overridable so tests and staging can point elsewhere.
pub const PROVIDER_URL_KEYS: &[&str] = &[
    "xero_login_url",
    "xero_identity_url",
    "xero_api_url",
    "productive_api_url",
    "google_token_url",
    "google_directory_url",
    "google_calendar_url",
    "slack_api_url",
    "remote_api_url",
    "remote_sandbox_api_url",
    "scrapin_api_url",
];

/// The file format. Flat keys, the same names as the environment without `ROSTER_`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data_dir: Option<String>,
    pub database_url: Option<String>,
    pub secret_key: Option<SecretKeys>,
    pub public_url: Option<String>,
    pub xero_login_url: Option<String>,
    pub xero_identity_url: Option<String>,
    pub xero_api_url: Option<String>,
    pub productive_api_url: Option<String>,
    pub google_token_url: Option<String>,
    pub google_directory_url: Option<String>,
    pub google_calendar_url: Option<String>,
    pub slack_api_url: Option<String>,
    pub remote_api_url: Option<String>,
    pub remote_sandbox_api_url: Option<String>,
    pub scrapin_api_url: Option<String>,
    pub xero_client_id: Option<String>,
    pub xero_client_secret: Option<String>,
    pub people_ttl: Option<String>,
    pub mass_removal_threshold: Option<f64>,
    pub outbound_allow_hosts: Option<Vec<String>>,
    pub auto_migrate: Option<bool>,
    pub log: Option<String>,
    pub log_format: Option<String>,
    /// Written by `roster demo` for the person running it: where the fakes' control API
    /// listens. Not a setting: no `ROSTER_*` name, and `serve` reads nothing from it (it never
    /// starts the fakes), so a demo's file still drives `admin` and `serve`.
    pub fakes_control_url: Option<String>,
}

/// `secret_key` is one base64 key or a list, newest first.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum SecretKeys {
    One(String),
    Many(Vec<String>),
}

/// Every other setting's name; with [`PROVIDER_URL_KEYS`], all of them (see [`all_keys`]).
const OTHER_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "secret_key",
    "public_url",
    "xero_client_id",
    "xero_client_secret",
    "people_ttl",
    "mass_removal_threshold",
    "outbound_allow_hosts",
    "auto_migrate",
    "log",
    "log_format",
];

/// Every setting's name, for the environment overlay and the unknown-name warning.
fn all_keys() -> impl Iterator<Item = &'static str> {
    OTHER_KEYS.iter().chain(PROVIDER_URL_KEYS).copied()
}

/// Variables with the prefix that are not settings but are known to the tooling.
const NOT_SETTINGS: &[&str] = &["ROSTER_TEST_DATABASE_URL"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The typed settings.
#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Raw base64 keys, newest first (parsed by the vault, which names a bad one).
    pub secret_keys: Vec<String>,
    pub public_url: Option<Url>,
    /// Every provider endpoint: the overridden ones, else the providers' real hosts.
    pub provider_urls: ProviderUrls,
    pub xero_client_id: Option<String>,
    pub xero_client_secret: Option<String>,
    pub people_ttl: Duration,
    pub mass_removal_threshold: f64,
    /// Hosts users may point outgoing calls at whatever their addresses (`ROSTER_OUTBOUND_ALLOW_HOSTS`).
    pub outbound_allow_hosts: AllowList,
    pub auto_migrate: bool,
    pub log: String,
    pub log_format: LogFormat,
    /// From `NO_COLOR`: text logs carry no ANSI colour even on a terminal.
    pub no_color: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &redact_url(&self.database_url))
            .field(
                "secret_keys",
                &format_args!("[{} redacted]", self.secret_keys.len()),
            )
            .field("public_url", &self.public_url)
            .field("provider_urls", &self.provider_urls)
            .field("xero_client_id", &self.xero_client_id)
            .field(
                "xero_client_secret",
                &self.xero_client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("people_ttl", &self.people_ttl)
            .field("mass_removal_threshold", &self.mass_removal_threshold)
            .field("outbound_allow_hosts", &self.outbound_allow_hosts)
            .field("auto_migrate", &self.auto_migrate)
            .field("log_format", &self.log_format)
            .field("no_color", &self.no_color)
            .finish_non_exhaustive()
    }
}

/// A database URL without its password, for logs.
pub fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("redacted"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Where settings come from: the file's text (if any) and the environment's `ROSTER_*`,
/// plus the one variable from outside Roster it honours, `NO_COLOR` (no-color.org).
pub struct Sources {
    pub file: Option<(PathBuf, String)>,
    pub env: BTreeMap<String, String>,
    /// `NO_COLOR` is set to something other than the empty string: logs carry no colour.
    pub no_color: bool,
    /// Warnings found while reading the sources (a secret file others may read).
    pub notes: Vec<String>,
}

impl Sources {
    /// Reads `--config` (if given) and the process environment.
    #[expect(
        clippy::disallowed_methods,
        reason = "the one place that reads the environment"
    )]
    pub fn load(config: Option<&Path>) -> Result<Self> {
        let file = match config {
            Some(p) => Some((
                p.to_owned(),
                std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read config file {}", p.display()))?,
            )),
            None => None,
        };
        let mut sources = Self::from_vars(file, std::env::vars_os());
        sources.notes = crate::secret_files::resolve(
            &mut sources.env,
            |k| all_keys().any(|key| key == k),
            crate::secret_files::read_file,
        )?;
        Ok(sources)
    }

    /// The sources from a file's text and environment variables.
    pub fn from_vars(
        file: Option<(PathBuf, String)>,
        vars: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Self {
        let mut env = BTreeMap::new();
        let mut no_color = false;
        for (k, v) in vars {
            if k == "NO_COLOR" {
                no_color = !v.is_empty();
            } else if let (Ok(k), Ok(v)) = (k.into_string(), v.into_string()) {
                if k.starts_with("ROSTER_") {
                    env.insert(k, v);
                }
            }
        }
        Self {
            file,
            env,
            no_color,
            notes: Vec::new(),
        }
    }
}

/// Warnings about the sources (unknown `ROSTER_*` names), to print once logging is up.
pub fn warnings(sources: &Sources) -> Vec<String> {
    sources
        .env
        .keys()
        .filter(|k| !NOT_SETTINGS.contains(&k.as_str()))
        .filter(|k| !all_keys().any(|key| env_name(key) == **k))
        .map(|k| format!("ignoring unknown environment variable {k}"))
        .chain(sources.notes.iter().cloned())
        .collect()
}

/// A TOML error by line and column, without the excerpt of the file that toml's own
/// message quotes: that line may hold the secret key or the Xero client secret.
fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> anyhow::Error {
    let at = e.span().map_or_else(String::new, |span| {
        let before = text.get(..span.start).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        // Name the key of that line (never its value) when it is a plain one.
        let key = text
            .lines()
            .nth(line - 1)
            .and_then(|l| l.split_once('='))
            .map(|(k, _)| k.trim())
            .filter(|k| {
                !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            })
            .map_or_else(String::new, |k| format!(" ({k})"));
        format!(" at line {line}, column {column}{key}")
    });
    anyhow!("{}{at}: {}", path.display(), e.message().trim_end())
}

fn env_name(key: &str) -> String {
    format!("ROSTER_{}", key.to_ascii_uppercase())
}

impl Config {
    pub fn from_sources(sources: &Sources) -> Result<Self> {
        let file: FileConfig = match &sources.file {
            Some((path, text)) => toml::from_str(text).map_err(|e| toml_error(path, text, &e))?,
            None => FileConfig::default(),
        };
        let mut raw = to_map(&file)?;
        for key in all_keys() {
            if let Some(v) = sources.env.get(&env_name(key)) {
                raw.insert(key.to_owned(), v.clone());
            }
        }
        Self::from_map(&raw, sources.no_color)
    }

    fn from_map(raw: &BTreeMap<String, String>, no_color: bool) -> Result<Self> {
        let get = |k: &str| {
            raw.get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let name = |k: &str| format!("{k} ({})", env_name(k));
        let listen = match get("listen") {
            Some(v) => v.parse().map_err(|_| {
                anyhow!(
                    "{}: {v:?} is not an address like 127.0.0.1:8080",
                    name("listen")
                )
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let data_dir = PathBuf::from(get("data_dir").unwrap_or_else(|| "data".to_owned()));
        let database_url = match get("database_url") {
            Some(v) => {
                if !(v.starts_with("sqlite:")
                    || v.starts_with("postgres:")
                    || v.starts_with("postgresql:"))
                {
                    bail!(
                        "{}: must start with sqlite:// or postgres://",
                        name("database_url")
                    );
                }
                v
            }
            None => format!("sqlite://{}", data_dir.join("roster.db").display()),
        };
        let secret_keys = get("secret_key")
            .map(|v| {
                v.split(',')
                    .map(|k| k.trim().to_owned())
                    .filter(|k| !k.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let url = |k: &str| -> Result<Option<Url>> {
            get(k)
                .map(|v| {
                    let u = Url::parse(&v)
                        .map_err(|e| anyhow!("{}: {v:?} is not a URL: {e}", name(k)))?;
                    if !matches!(u.scheme(), "http" | "https") {
                        bail!("{}: must be an http or https URL", name(k));
                    }
                    Ok(u)
                })
                .transpose()
        };
        let public_url = url("public_url")?;
        let mut provider_urls = ProviderUrls::default();
        for key in PROVIDER_URL_KEYS {
            if let Some(u) = url(key)? {
                *provider_url_mut(&mut provider_urls, key) = u;
            }
        }
        let people_ttl = match get("people_ttl") {
            Some(v) => roster_domain::duration::parse(&name("people_ttl"), &v)
                .map_err(|e| anyhow!("{}: {}", e.field, e.message))?,
            None => Duration::hours(6),
        };
        let mass_removal_threshold = match get("mass_removal_threshold") {
            Some(v) => {
                let x: f64 = v.parse().map_err(|_| {
                    anyhow!("{}: {v:?} is not a number", name("mass_removal_threshold"))
                })?;
                if !(0.0..=1.0).contains(&x) {
                    bail!(
                        "{}: must be between 0 and 1",
                        name("mass_removal_threshold")
                    );
                }
                x
            }
            None => 0.3,
        };
        // A comma-separated list (TOML: an array, joined by `to_map`), like `secret_key`.
        let outbound_allow_hosts = AllowList::parse(
            &name("outbound_allow_hosts"),
            get("outbound_allow_hosts").unwrap_or_default().split(','),
        )
        .map_err(|e| anyhow!("{}: {}", e.field, e.message))?;
        let auto_migrate = match get("auto_migrate").as_deref() {
            None | Some("true") => true,
            Some("false") => false,
            Some(v) => bail!("{}: {v:?} must be true or false", name("auto_migrate")),
        };
        let log_format = match get("log_format").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(v) => bail!("{}: {v:?} must be text or json", name("log_format")),
        };
        Ok(Self {
            listen,
            data_dir,
            database_url,
            secret_keys,
            public_url,
            provider_urls,
            xero_client_id: get("xero_client_id"),
            xero_client_secret: get("xero_client_secret"),
            people_ttl,
            mass_removal_threshold,
            outbound_allow_hosts,
            auto_migrate,
            log: match get("log") {
                Some(v) => {
                    tracing_subscriber::EnvFilter::try_new(&v)
                        .map_err(|e| anyhow!("{}: {v:?} is not a log filter: {e}", name("log")))?;
                    v
                }
                None => "info".to_owned(),
            },
            log_format,
            no_color,
        })
    }
}

/// The field of `urls` a `*_url` setting names.
fn provider_url_mut<'u>(urls: &'u mut ProviderUrls, key: &str) -> &'u mut Url {
    match key {
        "xero_login_url" => &mut urls.xero_login_url,
        "xero_identity_url" => &mut urls.xero_identity_url,
        "xero_api_url" => &mut urls.xero_api_url,
        "productive_api_url" => &mut urls.productive_api_url,
        "google_token_url" => &mut urls.google_token_url,
        "google_directory_url" => &mut urls.google_directory_url,
        "google_calendar_url" => &mut urls.google_calendar_url,
        "slack_api_url" => &mut urls.slack_api_url,
        "remote_api_url" => &mut urls.remote_api_url,
        "remote_sandbox_api_url" => &mut urls.remote_sandbox_api_url,
        // PROVIDER_URL_KEYS lists exactly the arms above; the test below walks it.
        _ => &mut urls.scrapin_api_url,
    }
}

/// The file's values as strings, so file and environment go through one parser.
fn to_map(file: &FileConfig) -> Result<BTreeMap<String, String>> {
    let value = serde_json::to_value(file)?;
    let mut out = BTreeMap::new();
    if let serde_json::Value::Object(map) = value {
        for (k, v) in map {
            let s = match v {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s,
                serde_json::Value::Array(items) => items
                    .iter()
                    .filter_map(|i| i.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                other => other.to_string(),
            };
            out.insert(k, s);
        }
    }
    Ok(out)
}

/// The TOML the demo writes (and an operator can start from).
pub fn render_toml(file: &FileConfig) -> Result<String> {
    Ok(toml::to_string(file)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(file: Option<&str>, env: &[(&str, &str)]) -> Sources {
        Sources::from_vars(
            file.map(|t| (PathBuf::from("roster.toml"), t.to_owned())),
            env.iter().map(|(k, v)| (k.into(), v.into())),
        )
    }

    #[test]
    fn the_demos_fakes_control_url_is_read_from_a_file_and_is_no_setting() {
        let with = Config::from_sources(&sources(
            Some("listen = \"127.0.0.1:9\"\nfakes_control_url = \"http://127.0.0.1:1\"\n"),
            &[],
        ))
        .unwrap();
        let without =
            Config::from_sources(&sources(Some("listen = \"127.0.0.1:9\"\n"), &[])).unwrap();
        assert_eq!(
            format!("{with:?}"),
            format!("{without:?}"),
            "serve ignores it"
        );
        let env = sources(None, &[("ROSTER_FAKES_CONTROL_URL", "http://127.0.0.1:1")]);
        assert_eq!(
            warnings(&env),
            ["ignoring unknown environment variable ROSTER_FAKES_CONTROL_URL"]
        );
    }

    #[test]
    fn no_color_is_honoured_when_set_to_anything_but_empty() {
        for (env, no_color) in [
            (vec![], false),
            (vec![("NO_COLOR", "")], false),
            (vec![("NO_COLOR", "1")], true),
            (vec![("NO_COLOR", "false")], true),
            (vec![("ROSTER_NO_COLOR", "1")], false),
        ] {
            let s = sources(None, &env);
            assert_eq!(s.no_color, no_color, "{env:?}");
            assert_eq!(
                Config::from_sources(&s).unwrap().no_color,
                no_color,
                "{env:?}"
            );
            assert!(
                !s.env.contains_key("NO_COLOR"),
                "not a ROSTER_ setting: never warned about"
            );
        }
    }

    #[test]
    fn only_roster_variables_are_read_as_settings() {
        let s = sources(
            None,
            &[
                ("ROSTER_LISTEN", "127.0.0.1:1"),
                ("HOME", "/root"),
                ("PATH", "/bin"),
            ],
        );
        assert_eq!(s.env.keys().collect::<Vec<_>>(), ["ROSTER_LISTEN"]);
    }

    #[test]
    fn defaults_are_the_contracts() {
        let c = Config::from_sources(&sources(None, &[])).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://data/roster.db");
        assert_eq!(c.people_ttl, Duration::hours(6));
        assert!((c.mass_removal_threshold - 0.3).abs() < f64::EPSILON);
        assert!(c.secret_keys.is_empty());
    }

    #[test]
    fn a_broken_file_is_reported_by_line_without_quoting_it() {
        let canary = "c2VjcmV0LWNhbmFyeS1rZXktbWF0ZXJpYWwtMzI=";
        for text in [
            format!("listen = \"127.0.0.1:1\"\nsecret_key = \"{canary}"),
            format!("listen = \"127.0.0.1:1\"\nxero_client_secret = {canary}"),
        ] {
            let err = Config::from_sources(&sources(Some(&text), &[]))
                .unwrap_err()
                .to_string();
            assert!(err.contains("roster.toml at line 2"), "{err}");
            assert!(!err.contains(canary), "{err}");
        }
    }

    #[test]
    fn environment_overrides_the_file() {
        let c = Config::from_sources(&sources(
            Some("listen = \"127.0.0.1:9000\"\npeople_ttl = \"1h\"\nsecret_key = [\"a\", \"b\"]"),
            &[
                ("ROSTER_LISTEN", "0.0.0.0:7000"),
                ("ROSTER_XERO_API_URL", "http://127.0.0.1:1234/x"),
            ],
        ))
        .unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:7000");
        assert_eq!(c.people_ttl, Duration::hours(1));
        assert_eq!(c.secret_keys, ["a", "b"]);
        assert_eq!(
            c.provider_urls.xero_api_url.as_str(),
            "http://127.0.0.1:1234/x"
        );
        assert_eq!(
            c.provider_urls.slack_api_url.as_str(),
            "https://slack.com/api",
            "others keep the real hosts"
        );
    }

    #[test]
    fn errors_name_the_setting() {
        for (file, env, needle) in [
            (Some("lisen = \"x\""), vec![], "lisen"),
            (None, vec![("ROSTER_LISTEN", "nowhere")], "ROSTER_LISTEN"),
            (
                None,
                vec![("ROSTER_PEOPLE_TTL", "soon")],
                "ROSTER_PEOPLE_TTL",
            ),
            (
                None,
                vec![("ROSTER_MASS_REMOVAL_THRESHOLD", "2")],
                "ROSTER_MASS_REMOVAL_THRESHOLD",
            ),
            (
                None,
                vec![("ROSTER_DATABASE_URL", "mysql://x")],
                "ROSTER_DATABASE_URL",
            ),
            (
                None,
                vec![("ROSTER_SLACK_API_URL", "ftp://x")],
                "ROSTER_SLACK_API_URL",
            ),
            (
                Some("mass_removal_threshold = \"lots\""),
                vec![],
                "mass_removal_threshold",
            ),
            (None, vec![("ROSTER_LOG", "warn,=[")], "ROSTER_LOG"),
            (
                None,
                vec![("ROSTER_OUTBOUND_ALLOW_HOSTS", "hooks.internal,*.internal")],
                "ROSTER_OUTBOUND_ALLOW_HOSTS",
            ),
            (
                Some("outbound_allow_hosts = \"hooks.internal\""),
                vec![],
                "outbound_allow_hosts",
            ),
        ] {
            let err = Config::from_sources(&sources(file, &env))
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{needle}: {err}");
        }
    }

    #[test]
    fn outbound_allow_hosts_is_an_array_in_the_file_and_a_comma_list_in_the_environment() {
        let hosts = |file: Option<&str>, env: &[(&str, &str)]| {
            let c = Config::from_sources(&sources(file, env)).unwrap();
            c.outbound_allow_hosts
                .hosts()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert!(hosts(None, &[]).is_empty(), "nothing is allowed by default");
        assert_eq!(
            hosts(
                Some("outbound_allow_hosts = [\"Hooks.Internal\", \"10.0.0.5\"]"),
                &[]
            ),
            ["10.0.0.5", "hooks.internal"]
        );
        assert_eq!(
            hosts(
                Some("outbound_allow_hosts = [\"hooks.internal\"]"),
                &[(
                    "ROSTER_OUTBOUND_ALLOW_HOSTS",
                    " alerts.corp.example , fd00::5 ,"
                )]
            ),
            ["[fd00::5]", "alerts.corp.example"],
            "the environment replaces the file's list"
        );
    }

    #[test]
    fn every_provider_url_setting_reaches_its_own_field() {
        for (i, key) in PROVIDER_URL_KEYS.iter().enumerate() {
            let env = env_name(key);
            let port = 1000 + i;
            let url = format!("http://127.0.0.1:{port}/");
            let c = Config::from_sources(&sources(None, &[(env.as_str(), url.as_str())])).unwrap();
            let debug = format!("{:?}", c.provider_urls);
            let marker = format!("port: Some({port})");
            assert_eq!(
                debug.matches(&marker).count(),
                1,
                "{key} sets exactly one field"
            );
            // The field holding the port is the last field name before it.
            let before = &debug[..debug.find(&marker).unwrap()];
            let field = before
                .rsplit(": Url")
                .nth(1)
                .unwrap()
                .rsplit([' ', '{', ','])
                .next()
                .unwrap();
            assert_eq!(field, *key, "{env} reaches the field of its name");
        }
    }

    #[test]
    fn unknown_environment_names_are_warned_about() {
        let s = sources(
            None,
            &[
                ("ROSTER_LISTN", "x"),
                ("ROSTER_TEST_DATABASE_URL", "y"),
                ("ROSTER_LISTEN", "127.0.0.1:1"),
            ],
        );
        assert_eq!(
            warnings(&s),
            ["ignoring unknown environment variable ROSTER_LISTN"]
        );
    }

    #[test]
    fn debug_never_prints_secrets() {
        let c = Config::from_sources(&sources(
            None,
            &[
                ("ROSTER_SECRET_KEY", "c2VjcmV0LWNhbmFyeQ=="),
                ("ROSTER_XERO_CLIENT_SECRET", "canary-client-secret"),
                ("ROSTER_DATABASE_URL", "postgres://u:canary-pass@h/db"),
            ],
        ))
        .unwrap();
        let dbg = format!("{c:?}");
        for canary in ["c2VjcmV0LWNhbmFyeQ", "canary-client-secret", "canary-pass"] {
            assert!(!dbg.contains(canary), "{canary} leaked: {dbg}");
        }
    }
}
