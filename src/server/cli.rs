//! The `mdt-server` command line: serve (the default), `user add`, `demo`.

use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use chrono::Utc;
use clap::{Parser, Subcommand};

use super::demo::{self, NewUser, DEMO_PASSWORD};
use super::mail::{MailSettings, Sender};
use super::store::{self, Store};
use super::{app, AppState, Config};
use crate::core::calendar::BankHolidays;
use crate::core::entities::Role;

/// MDT coordination server: serves the app and its JSON API on one port.
#[derive(Debug, Parser)]
#[command(name = "mdt-server", version)]
pub struct Cli {
    /// Address to listen on.
    #[arg(
        long,
        env = "MDT_ADDR",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub addr: SocketAddr,
    /// Where the SQLite database lives (created if missing). Not used with `--database-url`.
    #[arg(long, env = "MDT_DATA_DIR", default_value = "./data", global = true)]
    pub data_dir: PathBuf,
    /// A PostgreSQL database (`postgres://user@host:port/name`) shared by every server of a
    /// region, instead of the embedded SQLite file.
    #[arg(long, env = "MDT_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// The built app (Trunk's output).
    #[arg(long, env = "MDT_DIST", default_value = "./dist", global = true)]
    pub dist: PathBuf,
    /// A replacement bank-holiday file (JSON, like resources/bank-holidays-england-wales.json);
    /// without it the shipped England and Wales list is used.
    #[arg(long, env = "MDT_BANK_HOLIDAYS", global = true)]
    pub bank_holidays: Option<PathBuf>,
    /// Mark the session cookie Secure: set this whenever people reach the server over HTTPS.
    #[arg(long, env = "MDT_SECURE_COOKIES", global = true)]
    pub secure_cookies: bool,
    /// Serve HTTPS directly with this certificate chain (PEM); needs `--tls-key`. Without it,
    /// put a TLS reverse proxy in front (see the README).
    #[arg(long, env = "MDT_TLS_CERT", global = true, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `--tls-cert`.
    #[arg(long, env = "MDT_TLS_KEY", global = true, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The server is behind a reverse proxy (nginx, a load balancer) that appends the client's
    /// address to X-Forwarded-For: sign-in limits count that address. Only set it when the
    /// proxy is the only way in.
    #[arg(long, env = "MDT_BEHIND_PROXY", global = true)]
    pub behind_proxy: bool,
    /// A name for this server, sent as X-MDT-Server on every response (tells the servers of a
    /// region apart).
    #[arg(long, env = "MDT_SERVER_NAME", global = true)]
    pub server_name: Option<String>,
    /// Send email (invitations, reminders, chasers) through this SMTP server:
    /// `smtp://host:25`, `smtp://user:password@host:587?tls=required` (STARTTLS),
    /// `smtps://user:password@host:465` (TLS). Needs `--mail-from` and `--public-url`. Without
    /// it no email is sent and the app says so.
    #[arg(long, env = "MDT_SMTP_URL", global = true, requires_all = ["mail_from", "public_url"])]
    pub smtp_url: Option<String>,
    /// The address emails come from: `mdt@practice.nhs.uk` or `MDT <mdt@practice.nhs.uk>`.
    #[arg(long, env = "MDT_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,
    /// The app's address as people reach it (`https://mdt.practice.nhs.uk`): the links in
    /// emails, and where single sign-on providers send people back to
    /// (`{public-url}/api/sso/callback`, the redirect URI to register with them).
    #[arg(long, env = "MDT_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Seconds before a failed email is tried again; each later try waits twice as long, up
    /// to an hour.
    #[arg(
        long,
        env = "MDT_MAIL_RETRY_SECONDS",
        default_value_t = 30,
        global = true
    )]
    pub mail_retry_seconds: u64,
    /// Seconds between looks for brief reminders and weekly digests that are due.
    #[arg(
        long,
        env = "MDT_MAIL_CHECK_SECONDS",
        default_value_t = 300,
        global = true
    )]
    pub mail_check_seconds: u64,
    /// Seconds a client has to send a request's head, and an idle keep-alive connection is
    /// kept open (so slow or idle clients cannot hold connections for ever).
    #[arg(
        long,
        env = "MDT_HEADER_READ_TIMEOUT_SECONDS",
        default_value_t = 10,
        global = true
    )]
    pub header_read_timeout_seconds: u64,
    /// Connections open at once (default: as many as the process's file limit allows, less
    /// what the server keeps for itself).
    #[arg(long, env = "MDT_MAX_CONNECTIONS", global = true)]
    pub max_connections: Option<usize>,
    /// Connections open at once from one client address (default 256; 0: no limit, the
    /// default behind a proxy, where the proxy limits them: see the README).
    #[arg(long, env = "MDT_MAX_CONNECTIONS_PER_ADDRESS", global = true)]
    pub max_connections_per_address: Option<usize>,
    /// Serve `GET /metrics` (Prometheus text format) to scrapers that send this token as
    /// `Authorization: Bearer <token>`; without it there is no `/metrics`. Use a long random
    /// value (`openssl rand -hex 32`), kept like a password.
    #[arg(long, env = "MDT_METRICS_TOKEN", global = true, hide_env_values = true)]
    pub metrics_token: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the app and the API (the default).
    Serve,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
    /// Load the synthetic demo teams and accounts (safe to run twice).
    Demo,
    /// Single sign-on through people's organisations (NHS Care Identity, Microsoft Entra ID):
    /// the providers, and the record of sign-ins.
    Sso {
        #[command(subcommand)]
        action: SsoCommand,
    },
    /// Whether every password account must use a second factor (an authenticator app) to sign
    /// in. Site administrators always must.
    SecondFactor {
        #[command(subcommand)]
        action: SecondFactorCommand,
    },
    /// The audit trail of patient data.
    Audit {
        #[command(subcommand)]
        action: AuditCommand,
    },
    /// Copies an embedded installation into an empty PostgreSQL database and checks the copy
    /// (row counts, the audit chain, the change log). Stop the server first.
    Migrate {
        /// The data directory of the SQLite installation (holding mdt.sqlite3).
        #[arg(long)]
        from_sqlite: PathBuf,
        /// The PostgreSQL database to copy into (postgres://user@host:port/name).
        #[arg(long)]
        to: String,
    },
    /// Copies the embedded database of `--data-dir` to a file while the server runs, checks the
    /// copy (integrity, the audit chain, the change log) and only then puts it in place. For
    /// PostgreSQL use pg_dump (see the README).
    Backup {
        /// The backup file to write (replaced if it exists).
        #[arg(long)]
        to: PathBuf,
    },
    /// Puts a backup into `--data-dir`, which must hold no database, after checking it; start
    /// the server on that directory afterwards.
    Restore {
        /// The backup file to restore.
        #[arg(long)]
        from: PathBuf,
    },
}

/// Audit trail commands.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Checks every entry's hash chain; fails (exit 1) naming the first broken entry.
    Verify,
}

/// Second factor commands.
#[derive(Debug, Subcommand)]
pub enum SecondFactorCommand {
    /// Every password account must set up an authenticator app at its next sign-in.
    Require,
    /// Only site administrators, and people who chose to, use a second factor.
    Optional,
    /// Says which it is.
    Status,
}

/// Single sign-on commands.
#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// Adds a provider (or replaces the one with the same id): a "Sign in with …" button on the
    /// sign-in page. Register `{public-url}/api/sso/callback` with the provider as the redirect
    /// URI. A client secret is read from standard input (first line), or asked for in a
    /// terminal; with `--private-key` none is needed.
    Add {
        /// A short name: lower-case letters, digits and hyphens (`nhs-cis2`).
        #[arg(long)]
        id: String,
        /// The name on the button: "Sign in with <label>".
        #[arg(long)]
        label: String,
        /// The provider's issuer (its discovery document is at
        /// `<issuer>/.well-known/openid-configuration`).
        #[arg(long)]
        issuer: String,
        #[arg(long)]
        client_id: String,
        /// Authenticate with `private_key_jwt` (CIS2) using this RSA private key (PEM); its
        /// public half is published at `/api/sso/jwks.json`.
        #[arg(long)]
        private_key: Option<PathBuf>,
        /// Scopes to ask for, separated by spaces.
        #[arg(long, default_value = "openid email profile")]
        scopes: String,
        /// The ID token claim holding the email address (Entra ID: `email` or
        /// `preferred_username`).
        #[arg(long, default_value = "email")]
        email_claim: String,
        /// `acr_values` to ask for, and to require in the ID token (CIS2: `AAL3_ANY`).
        #[arg(long)]
        acr_values: Option<String>,
        /// Email domains whose people may make an account by signing in for the first time
        /// (comma or space separated). Anyone else needs `user invite`.
        #[arg(long, default_value = "")]
        domains: String,
    },
    /// Lists the providers (without secrets).
    List,
    /// Removes a provider: its button goes, and nobody can sign in through it.
    Remove {
        #[arg(long)]
        id: String,
    },
    /// The latest sign-ins and refusals, every way in, newest first.
    Log {
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

/// Account commands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account and its directory entry. The password is read from standard input
    /// (first line), or asked for twice when run in a terminal.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Professional role, e.g. gp, social_worker, district_nurse, practice_manager.
        #[arg(long, default_value = "other")]
        role: String,
        /// Also a site administrator: manages accounts in the app (no patient data by it).
        #[arg(long)]
        site_admin: bool,
        /// No password: they sign in through this single sign-on provider only (invited to
        /// it, whatever their email domain).
        #[arg(long)]
        sso: Option<String>,
    },
    /// Invites an account to sign in through a single sign-on provider, whatever its email
    /// domain: their first sign-in there links to this account.
    Invite {
        #[arg(long)]
        email: String,
        #[arg(long)]
        provider: String,
    },
    /// Makes an account a site administrator (the Accounts page in the app).
    MakeAdmin {
        #[arg(long)]
        email: String,
    },
    /// Takes site administration away from an account.
    RevokeAdmin {
        #[arg(long)]
        email: String,
    },
    /// Sets a new password (read like `add`) and ends the account's sessions.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
    /// Stops an account signing in and ends its sessions at once.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Lets a disabled account sign in again.
    Enable {
        #[arg(long)]
        email: String,
    },
    /// Takes away an account's authenticator app and recovery codes (a lost phone) and ends its
    /// sessions: where a second factor is required, the next sign-in sets one up again.
    ResetSecondFactor {
        #[arg(long)]
        email: String,
    },
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (at least 12 characters): ")?;
        let second = rpassword::prompt_password("Password again: ")?;
        anyhow::ensure!(
            first == second,
            "the two passwords are different; nothing was saved"
        );
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// Backups and restores are of the embedded database; a region's PostgreSQL has its own tools.
fn ensure_embedded(cli: &Cli, what: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        cli.database_url.is_none(),
        "`mdt-server {what}` is for the embedded database (--data-dir); for PostgreSQL use pg_dump and continuous archiving (see the README's \"Backups\")"
    );
    Ok(())
}

/// Runs the command line; errors are printed by the binary.
pub fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::Backup { to }) => {
            ensure_embedded(&cli, "backup")?;
            let facts = store::backup::backup(&cli.data_dir, to)?;
            println!(
                "Backed up {} to {}: {facts}.",
                cli.data_dir.display(),
                to.display()
            );
            return Ok(());
        }
        Some(Command::Restore { from }) => {
            ensure_embedded(&cli, "restore")?;
            let facts = store::backup::restore(from, &cli.data_dir)?;
            // Opening brings an older copy's schema up to date and sets the journal mode.
            Store::open(&cli.data_dir)?;
            println!(
                "Restored {} into {}: {facts}. Start the server on that data directory.",
                from.display(),
                cli.data_dir.display()
            );
            return Ok(());
        }
        _ => {}
    }
    if let Some(Command::Migrate { from_sqlite, to }) = &cli.command {
        anyhow::ensure!(
            from_sqlite.join("mdt.sqlite3").is_file(),
            "no embedded database at {} (expected {})",
            from_sqlite.display(),
            from_sqlite.join("mdt.sqlite3").display()
        );
        let from = Store::open(from_sqlite)?;
        let target = Store::connect(to)?;
        println!("Copying {} into PostgreSQL…", from_sqlite.display());
        let copied = store::migrate::copy(&from, &target, &mut |line| println!("{line}"))
            .map_err(anyhow::Error::from)?;
        println!(
            "Copied and checked: every table's rows, {} audit entries chained to the end, the change log up to {}.",
            copied.audit_entries, copied.latest_change
        );
        println!("Start the servers with --database-url to use it.");
        return Ok(());
    }
    let store = match &cli.database_url {
        Some(url) if !url.trim().is_empty() => Store::connect(url)?,
        _ => Store::open(&cli.data_dir)?,
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let bank_holidays = match &cli.bank_holidays {
                Some(path) => {
                    let text = std::fs::read_to_string(path).with_context(|| {
                        format!("cannot read the bank holiday file {}", path.display())
                    })?;
                    BankHolidays::parse(&text)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
                }
                None => BankHolidays::shipped(),
            };
            let tls = cli.tls_cert.zip(cli.tls_key);
            let https = tls.is_some();
            let mail = match (cli.smtp_url, cli.mail_from, cli.public_url.clone()) {
                (Some(smtp_url), Some(from), Some(public_url)) => Some(MailSettings {
                    smtp_url,
                    from,
                    public_url,
                    retry_first: std::time::Duration::from_secs(cli.mail_retry_seconds.max(1)),
                    check_every: std::time::Duration::from_secs(cli.mail_check_seconds.max(1)),
                }),
                _ => None,
            };
            let most = crate::server::listen::Limits::most_connections_possible();
            let per_address = cli
                .max_connections_per_address
                .unwrap_or(if cli.behind_proxy {
                    0
                } else {
                    crate::server::listen::Limits::MAX_PER_ADDRESS
                });
            let limits = crate::server::listen::Limits {
                header_read_timeout: std::time::Duration::from_secs(
                    cli.header_read_timeout_seconds.max(1),
                ),
                max_connections: cli.max_connections.unwrap_or(most).clamp(1, most),
                max_per_address: (per_address > 0).then_some(per_address),
            };
            serve(
                store,
                cli.addr,
                cli.dist,
                tls,
                mail,
                limits,
                Config {
                    // Served over HTTPS directly: the cookie is Secure and HSTS is sent.
                    secure_cookies: cli.secure_cookies || https,
                    dist_dir: None,
                    bank_holidays: std::sync::Arc::new(bank_holidays),
                    behind_proxy: cli.behind_proxy,
                    server_name: cli.server_name,
                    public_url: cli.public_url,
                    metrics_token: cli.metrics_token.filter(|t| !t.trim().is_empty()),
                },
            )
        }
        Command::User {
            action:
                UserCommand::Add {
                    email,
                    name,
                    role,
                    site_admin,
                    sso,
                },
        } => {
            let role = Role::parse(&role).with_context(|| {
                let all: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown role \"{role}\"; use one of: {}", all.join(", "))
            })?;
            let user = match &sso {
                Some(provider) => {
                    ensure_provider(&store, provider)?;
                    let new = NewUser {
                        email: &email,
                        name: &name,
                        role,
                        password: "",
                    };
                    let user = demo::add_user_without_password(&store, &new, Utc::now())
                        .map_err(anyhow::Error::from)?;
                    store
                        .write_blocking(|db| store::set_invitation(db, &user.email, Some(provider)))
                        .map_err(anyhow::Error::from)?;
                    user
                }
                None => {
                    let password = read_password()?;
                    demo::add_user(
                        &store,
                        &NewUser {
                            email: &email,
                            name: &name,
                            role,
                            password: &password,
                        },
                        Utc::now(),
                    )
                    .map_err(anyhow::Error::from)?
                }
            };
            if site_admin {
                store
                    .write_blocking(|db| store::set_site_admin(db, &user.email, true))
                    .map_err(anyhow::Error::from)?;
            }
            println!(
                "Added {} <{}>{}. They can now sign in.",
                user.name,
                user.email,
                if site_admin {
                    " as a site administrator"
                } else {
                    ""
                }
            );
            Ok(())
        }
        Command::User {
            action: action @ (UserCommand::MakeAdmin { .. } | UserCommand::RevokeAdmin { .. }),
        } => {
            let (email, admin) = match action {
                UserCommand::MakeAdmin { email } => (email, true),
                UserCommand::RevokeAdmin { email } => (email, false),
                _ => unreachable!("matched above"),
            };
            let found = store
                .write_blocking(|db| store::set_site_admin(db, &email, admin))
                .map_err(anyhow::Error::from)?;
            anyhow::ensure!(found, "no account has the email address {email}");
            if admin {
                println!(
                    "{email} is now a site administrator: the app shows them the Accounts page."
                );
            } else {
                println!("{email} is no longer a site administrator.");
            }
            Ok(())
        }
        Command::User {
            action: UserCommand::ResetPassword { email },
        } => {
            let password = read_password()?;
            crate::core::validation::password(&password)
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            let hash = super::auth::hash_password(&password)?;
            let found = store
                .write_blocking(|db| store::set_password_hash(db, &email, &hash))
                .map_err(anyhow::Error::from)?;
            anyhow::ensure!(found, "no account has the email address {email}");
            println!("New password set for {email}; their sessions have ended.");
            Ok(())
        }
        Command::User {
            action: action @ (UserCommand::Disable { .. } | UserCommand::Enable { .. }),
        } => {
            let (email, disable) = match action {
                UserCommand::Disable { email } => (email, true),
                UserCommand::Enable { email } => (email, false),
                _ => unreachable!("matched above"),
            };
            let found = store
                .write_blocking(|db| store::set_disabled(db, &email, disable))
                .map_err(anyhow::Error::from)?;
            anyhow::ensure!(found, "no account has the email address {email}");
            if disable {
                println!("{email} can no longer sign in; their sessions have ended.");
            } else {
                println!("{email} can sign in again.");
            }
            Ok(())
        }
        Command::User {
            action: UserCommand::Invite { email, provider },
        } => {
            ensure_provider(&store, &provider)?;
            let found = store
                .write_blocking(|db| store::set_invitation(db, &email, Some(&provider)))
                .map_err(anyhow::Error::from)?;
            anyhow::ensure!(found, "no account has the email address {email}");
            println!("{email} may now sign in through {provider}; their first sign-in there links to this account.");
            Ok(())
        }
        Command::Sso { action } => sso_command(&store, action),
        Command::SecondFactor { action } => {
            use super::second_factor::{required_for_everyone, REQUIRED_SETTING};
            match action {
                SecondFactorCommand::Require | SecondFactorCommand::Optional => {
                    let on = matches!(action, SecondFactorCommand::Require);
                    store
                        .write_blocking(|db| {
                            store::set_setting(db, REQUIRED_SETTING, if on { "1" } else { "0" })
                        })
                        .map_err(anyhow::Error::from)?;
                }
                SecondFactorCommand::Status => {}
            }
            let on = store
                .read_blocking(required_for_everyone)
                .map_err(anyhow::Error::from)?;
            println!(
                "{}",
                if on {
                    "A second factor is required of every password account: each sets up an authenticator app at its next sign-in."
                } else {
                    "A second factor is required of site administrators only; others may set one up."
                }
            );
            Ok(())
        }
        Command::User {
            action: UserCommand::ResetSecondFactor { email },
        } => {
            let found = store
                .write_blocking(|db| {
                    let Some(user) = store::any_user_by_email(db, &email)? else {
                        return Ok(false);
                    };
                    store::remove_second_factor(db, user.id)?;
                    store::end_sessions_of(db, &user.email)?;
                    Ok(true)
                })
                .map_err(anyhow::Error::from)?;
            anyhow::ensure!(found, "no account has the email address {email}");
            println!("{email}'s authenticator app and recovery codes are gone and their sessions have ended; their next sign-in sets up a new one where it is required.");
            Ok(())
        }
        Command::Audit {
            action: AuditCommand::Verify,
        } => {
            let result = store
                .read_blocking(|db| super::audit::verify(db))
                .map_err(anyhow::Error::from)?;
            match result {
                Ok(count) => {
                    println!("The audit trail is intact: {count} entries, every one chained to the one before.");
                    Ok(())
                }
                Err(broken) => {
                    anyhow::bail!("{broken}. Keep a copy of the database and report it.")
                }
            }
        }
        Command::Migrate { .. } | Command::Backup { .. } | Command::Restore { .. } => {
            unreachable!("handled before the store is opened")
        }
        Command::Demo => {
            let summary = demo::load_demo(&store, Utc::now()).map_err(anyhow::Error::from)?;
            if summary.already_loaded {
                println!("The demo data is already loaded.");
            } else {
                println!("Loaded the synthetic demo teams.");
            }
            println!("Demo accounts (password: {DEMO_PASSWORD}):");
            for (email, what) in summary.accounts {
                println!("  {email:<32} {what}");
            }
            Ok(())
        }
    }
}

/// Fails in words unless a single sign-on provider has the id `provider`.
fn ensure_provider(store: &Store, provider: &str) -> anyhow::Result<()> {
    let known = store
        .read_blocking(|db| store::provider(db, provider))
        .map_err(anyhow::Error::from)?;
    anyhow::ensure!(
        known.is_some(),
        "no single sign-on provider is called \"{provider}\" (see `mdt-server sso list`)"
    );
    Ok(())
}

fn read_secret(prompt: &str) -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        Ok(rpassword::prompt_password(prompt)?)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

fn sso_command(store: &Store, action: SsoCommand) -> anyhow::Result<()> {
    use crate::core::sign_in::{parse_domains, ClientAuthentication, ProviderSettings};
    match action {
        SsoCommand::Add {
            id,
            label,
            issuer,
            client_id,
            private_key,
            scopes,
            email_claim,
            acr_values,
            domains,
        } => {
            let (client_secret, private_key_pem) = match &private_key {
                Some(path) => {
                    let pem = std::fs::read_to_string(path).with_context(|| {
                        format!("cannot read the private key {}", path.display())
                    })?;
                    super::sso::signing_key(&pem)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    (None, Some(pem))
                }
                None => {
                    let secret = read_secret("Client secret: ")?;
                    anyhow::ensure!(
                        !secret.trim().is_empty(),
                        "enter the client secret the provider gave you, or use --private-key"
                    );
                    (Some(secret.trim().to_owned()), None)
                }
            };
            let settings = ProviderSettings {
                id,
                label: label.trim().to_owned(),
                issuer: issuer.trim().trim_end_matches('/').to_owned(),
                client_id: client_id.trim().to_owned(),
                client_authentication: if private_key_pem.is_some() {
                    ClientAuthentication::PrivateKeyJwt
                } else {
                    ClientAuthentication::Secret
                },
                scopes: scopes.trim().to_owned(),
                email_claim: email_claim.trim().to_owned(),
                acr_values: acr_values
                    .map(|a| a.trim().to_owned())
                    .filter(|a| !a.is_empty()),
                domains: parse_domains(&domains),
            };
            settings
                .validate()
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            let row = store::ProviderRow {
                settings: settings.clone(),
                client_secret,
                private_key_pem,
            };
            store
                .write_blocking(|db| store::put_provider(db, &row, Utc::now()))
                .map_err(anyhow::Error::from)?;
            println!(
                "People can now choose \"Sign in with {}\". Register <public-url>/api/sso/callback with the provider as the redirect URI{}.",
                settings.label,
                if row.private_key_pem.is_some() {
                    ", and <public-url>/api/sso/jwks.json as this app's public keys"
                } else {
                    ""
                }
            );
            Ok(())
        }
        SsoCommand::List => {
            let providers = store
                .read_blocking(store::providers)
                .map_err(anyhow::Error::from)?;
            if providers.is_empty() {
                println!("No single sign-on providers: people sign in with their email address and password.");
            }
            for p in providers {
                let s = p.settings;
                println!(
                    "{}: \"Sign in with {}\"\n  issuer {}\n  client {} ({})\n  scopes {}; email from the {} claim{}\n  new accounts for: {}",
                    s.id,
                    s.label,
                    s.issuer,
                    s.client_id,
                    match s.client_authentication {
                        ClientAuthentication::Secret => "client secret",
                        ClientAuthentication::PrivateKeyJwt => "private_key_jwt",
                    },
                    s.scopes,
                    s.email_claim,
                    s.acr_values.map(|a| format!("; acr {a}")).unwrap_or_default(),
                    if s.domains.is_empty() {
                        "invited people only".to_owned()
                    } else {
                        s.domains.join(", ")
                    }
                );
            }
            Ok(())
        }
        SsoCommand::Remove { id } => {
            let removed = store
                .write_blocking(|db| store::remove_provider(db, &id))
                .map_err(anyhow::Error::from)?;
            anyhow::ensure!(removed, "no single sign-on provider is called \"{id}\"");
            println!("Removed {id}: nobody can sign in through it now.");
            Ok(())
        }
        SsoCommand::Log { limit } => {
            let events = store
                .read_blocking(|db| store::sign_in_events(db, limit.min(10_000)))
                .map_err(anyhow::Error::from)?;
            for e in events {
                println!(
                    "{}  {:<9}  {:<20}  {}  {}{}",
                    e.at.format("%Y-%m-%d %H:%M:%S"),
                    e.outcome,
                    e.how,
                    e.email.as_deref().unwrap_or("-"),
                    e.address.as_deref().unwrap_or("-"),
                    if e.reason.is_empty() {
                        String::new()
                    } else {
                        format!("  ({})", e.reason)
                    }
                );
            }
            Ok(())
        }
    }
}

/// Ctrl-C, or SIGTERM (what service managers and orchestrators send).
async fn stop_signal() {
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async {
                match term.as_mut() {
                    Some(term) => { term.recv().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

fn serve(
    store: Store,
    addr: SocketAddr,
    dist: PathBuf,
    tls: Option<(PathBuf, PathBuf)>,
    mail: Option<MailSettings>,
    limits: crate::server::listen::Limits,
    config: Config,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    // One process-wide TLS implementation (ring) for HTTPS and SMTP; a second install is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sender = match &mail {
        Some(settings) => {
            let holder = format!(
                "{}-{}",
                config.server_name.as_deref().unwrap_or("server"),
                uuid::Uuid::new_v4()
            );
            Some(Sender::new(store.clone(), settings, holder)?)
        }
        None => {
            tracing::info!("email is off (no --smtp-url)");
            None
        }
    };
    runtime.block_on(async move {
        let dist_dir = dist.join("index.html").is_file().then_some(dist.clone());
        if dist_dir.is_none() {
            tracing::warn!(dist = %dist.display(), "no built app found; serving the API only");
        }
        let state = AppState::new(store, Config { dist_dir, ..config });
        let shutdown = state.shutdown.clone();
        let counters = state.connections.clone();
        let router = app(state);
        let acceptor = match &tls {
            Some((cert, key)) => Some(crate::server::listen::tls_acceptor(cert, key)?),
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
            format!("cannot listen on {addr} (is another server already using it?)")
        })?;
        let local = listener.local_addr()?;
        // Email starts only once the server listens (a server that cannot start sends nothing).
        if let Some(sender) = sender {
            tokio::spawn(sender.run(shutdown.subscribe()));
        }
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        tracing::info!(
            max_connections = limits.max_connections,
            max_per_address = ?limits.max_per_address,
            header_read_timeout = ?limits.header_read_timeout,
            "connection limits"
        );
        println!("MDT app running at {scheme}://{local}/  (press Ctrl-C to stop)");
        crate::server::listen::serve(listener, acceptor, router, limits, counters, async move {
            stop_signal().await;
            tracing::info!("shutting down: finishing requests in flight");
            let _ = shutdown.send(true);
        })
        .await;
        Ok(())
    })
}
