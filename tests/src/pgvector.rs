//! A private PostgreSQL server with the pgvector extension, for the tests
//! of the RAG slice's pgvector path ([`crate::Backend::PgVector`]).
//!
//! The local PostgreSQL service has no pgvector, so the tests use the
//! build the PyPI package `pgserver` ships (PostgreSQL 16 with `vector`):
//! `PGVECTOR_PG_BIN` names its `bin` directory (`bash .ci/run` installs the
//! package and sets it). The first test of a test binary that needs the
//! server runs `initdb` into a fresh temporary directory and starts it
//! with `pg_ctl` on a free port (trust auth, unix socket in the same
//! directory, durability off); each test then gets a fresh database on it,
//! as on the service. A watchdog shell stops the server and removes the
//! directory once the test process has exited, even after a panic.
//!
//! PostgreSQL refuses to run as root: under root the installation is
//! copied into the temporary directory (keeping the place of the wheel's
//! vendored libraries, `<package>.libs` beside the package, which its
//! binaries find by relative path) and run as the `postgres` user (else
//! `nobody`).
//!
//! Without `PGVECTOR_PG_BIN` the pgvector tests print why and pass, so the
//! README's test command works on a machine without the package.

use std::{
    net::TcpListener,
    os::unix::{fs::MetadataExt, process::CommandExt},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::OnceLock,
};

use anyhow::{bail, Context};

/// The variable naming the `bin` directory of a PostgreSQL with pgvector.
pub const BIN_VAR: &str = "PGVECTOR_PG_BIN";

/// The binaries' directory, when configured.
pub fn bin_dir() -> Option<PathBuf> {
    std::env::var_os(BIN_VAR)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

/// Whether a pgvector test must be skipped (then says so on stderr).
pub fn skip(test: &str) -> bool {
    if bin_dir().is_some() {
        return false;
    }
    eprintln!(
        "skipping {test}: {BIN_VAR} is not set (it names the bin directory of a PostgreSQL \
         with pgvector; `bash .ci/run` installs the PyPI package pgserver and sets it)"
    );
    true
}

static SERVER: OnceLock<Result<String, String>> = OnceLock::new();

/// The admin URL of the private server, started on first use. Fails when
/// [`BIN_VAR`] is unset or the server cannot start.
pub fn admin_url() -> anyhow::Result<String> {
    let bin = bin_dir().with_context(|| format!("{BIN_VAR} is not set"))?;
    SERVER
        .get_or_init(|| start(&bin).map_err(|error| format!("{error:#}")))
        .clone()
        .map_err(|error| anyhow::anyhow!("the pgvector test server did not start: {error}"))
}

/// `(uid, gid)` of the first of `names` in `/etc/passwd`.
fn unprivileged_user(names: &[&str]) -> anyhow::Result<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    for name in names {
        for line in passwd.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() > 3 && fields[0] == *name {
                return Ok((fields[2].parse()?, fields[3].parse()?));
            }
        }
    }
    bail!("running as root and none of the users {names:?} exists to run PostgreSQL")
}

fn run(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {what}"))?;
    if !output.status.success() {
        bail!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Copies the installation above `bin` into `site` (see the module docs);
/// the copied `bin`.
fn copy_installation(bin: &Path, site: &Path) -> anyhow::Result<PathBuf> {
    let bin = bin
        .canonicalize()
        .context("resolving the binaries' directory")?;
    let install = bin.parent().context("bin has no parent")?;
    let package = install.parent().context("the installation has no parent")?;
    let packages = package.parent().context("the package has no parent")?;
    let target = site
        .join(package.file_name().unwrap_or_default())
        .join(install.file_name().unwrap_or_default());
    std::fs::create_dir_all(target.parent().unwrap_or(site))?;
    run(
        Command::new("cp").arg("-a").arg(install).arg(&target),
        "copying the PostgreSQL installation",
    )?;
    let libs = packages.join(format!(
        "{}.libs",
        package.file_name().unwrap_or_default().to_string_lossy()
    ));
    if libs.is_dir() {
        run(
            Command::new("cp").arg("-a").arg(&libs).arg(site),
            "copying the vendored libraries",
        )?;
    }
    Ok(target.join(bin.file_name().unwrap_or_default()))
}

fn start(bin: &Path) -> anyhow::Result<String> {
    let dir = tempfile::Builder::new()
        .prefix("forecastlab-pgvector-")
        .tempdir()?
        .keep();
    let root = std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false);
    let (bin, user) = if root {
        let user = unprivileged_user(&["postgres", "nobody"])?;
        (copy_installation(bin, &dir.join("site"))?, Some(user))
    } else {
        (bin.to_owned(), None)
    };
    let data = dir.join("data");
    let log = dir.join("postgres.log");
    if let Some((uid, gid)) = user {
        run(
            Command::new("chown")
                .arg("-R")
                .arg(format!("{uid}:{gid}"))
                .arg(&dir),
            "handing the directory to the server's user",
        )?;
    }
    let command = |program: &str| {
        let mut command = Command::new(bin.join(program));
        command.current_dir(&dir);
        if let Some((uid, gid)) = user {
            command.uid(uid).gid(gid);
        }
        command
    };
    run(
        command("initdb").arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
        ]),
        "initdb",
    )?;
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off \
         -c synchronous_commit=off -c full_page_writes=off",
        dir.display()
    );
    let started = run(
        command("pg_ctl")
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o", &options, "start"]),
        "pg_ctl start",
    );
    watch(&dir, &data)?;
    started.with_context(|| {
        format!(
            "server log: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    })?;
    Ok(format!("postgres://postgres@127.0.0.1:{port}/postgres"))
}

/// Starts a shell that waits for this process to exit, then stops the
/// server (fast shutdown) and removes `dir`.
fn watch(dir: &Path, data: &Path) -> anyhow::Result<()> {
    const SCRIPT: &str = r#"
        while kill -0 "$1" 2>/dev/null; do sleep 1; done
        pid=$(head -n 1 "$2/postmaster.pid" 2>/dev/null)
        if [ -n "$pid" ]; then
            kill -INT "$pid" 2>/dev/null
            i=0
            while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 60 ]; do sleep 1; i=$((i + 1)); done
        fi
        rm -rf "$3"
    "#;
    Command::new("sh")
        .arg("-c")
        .arg(SCRIPT)
        .arg("pgvector-watchdog")
        .arg(std::process::id().to_string())
        .arg(data)
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group, so that a signal to the test run's group
        // does not take it down before it has cleaned up.
        .process_group(0)
        .spawn()
        .context("starting the server's watchdog")?;
    Ok(())
}
