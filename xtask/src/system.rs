//! What the tasks need from the machine, installed when missing: Debian or
//! Ubuntu packages through apt-get (as root, else with sudo), and a Node.js
//! that satisfies `ui/package.json`'s `engines` (else the npm registry's
//! `node-linux-<arch>` package under ~/.cache/tickstream/node, put first on
//! PATH for everything the task runs). Elsewhere it says what is missing.

use std::{
    env,
    path::Path,
    process::{Command, Stdio},
};

use anyhow::{Context, Result, bail};

use crate::{npm, run};

/// How to tell that a package's part is already here.
#[derive(Clone, Copy)]
pub enum Probe {
    /// A command on PATH (however it was installed).
    Command(&'static str),
    /// The package itself, installed.
    Package,
}

/// A Debian package and how to see it is not needed.
pub type Need = (&'static str, Probe);

/// To build the daemon (librdkafka from source) and the dashboard.
pub const BUILD: &[Need] = &[
    ("build-essential", Probe::Command("cc")),
    ("make", Probe::Command("make")),
    ("pkg-config", Probe::Command("pkg-config")),
    ("libssl-dev", Probe::Package),
    ("nodejs", Probe::Command("node")),
    ("npm", Probe::Command("npm")),
];

/// To build the desktop app: Tauri's Linux libraries.
pub const DESKTOP: &[Need] = &[
    ("libwebkit2gtk-4.1-dev", Probe::Package),
    ("libxdo-dev", Probe::Package),
    ("libayatana-appindicator3-dev", Probe::Package),
    ("librsvg2-dev", Probe::Package),
    ("libdbus-1-dev", Probe::Package),
];

/// To check the Windows target (`cargo xtask lint`): MinGW's cross
/// compiler, and CMake, which builds librdkafka for Windows.
pub const WINDOWS: &[Need] = &[
    ("mingw-w64", Probe::Command("x86_64-w64-mingw32-gcc")),
    ("cmake", Probe::Command("cmake")),
];

/// Python with venv and pip: the test broker (Tansu), Helm and the chart's
/// validator, and the Python examples come from PyPI.
pub const PYTHON: &[Need] = &[
    ("python3", Probe::Command("python3")),
    ("python3-pip", Probe::Package),
    ("python3-venv", Probe::Package),
];

/// To run every test: a virtual display and WebKit's WebDriver for the
/// desktop app, `file` for its packages, `openssl` for certificates,
/// `sudo`, through which the updater installs a package as root (Chromium
/// is installed apart: `$CHROMIUM` may name another).
pub const TEST: &[Need] = &[
    ("xvfb", Probe::Command("xvfb-run")),
    ("xauth", Probe::Command("xauth")),
    ("webkit2gtk-driver", Probe::Command("WebKitWebDriver")),
    ("file", Probe::Command("file")),
    ("openssl", Probe::Command("openssl")),
    ("sudo", Probe::Command("sudo")),
];

/// Installs the packages of `needs` that are missing, naming `what` they
/// are for.
///
/// # Errors
/// apt-get failed, or packages are missing where there is no apt-get.
pub fn ensure_packages(what: &str, needs: &[&[Need]]) -> Result<()> {
    let missing: Vec<&str> = needs
        .iter()
        .flat_map(|set| set.iter())
        .filter(|(package, probe)| !present(package, *probe))
        .map(|(package, _)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !on_path("apt-get") {
        bail!(
            "{what} needs these (Debian package names): {}; install them, or run on Debian or Ubuntu, where this installs them itself",
            missing.join(" ")
        );
    }
    println!("{what}: installing {}", missing.join(" "));
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(&missing);
    apt(&install)
}

fn present(package: &str, probe: Probe) -> bool {
    match probe {
        Probe::Command(command) => on_path(command),
        Probe::Package => Command::new("dpkg-query")
            .args(["-W", "-f=${Status}", package])
            .stderr(Stdio::null())
            .output()
            .is_ok_and(|o| o.stdout.ends_with(b" installed")),
    }
}

fn on_path(command: &str) -> bool {
    env::var_os("PATH")
        .is_some_and(|path| env::split_paths(&path).any(|dir| dir.join(command).is_file()))
}

/// `apt-get ARGS`, through sudo unless root.
fn apt(args: &[&str]) -> Result<()> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut cmd = if root {
        Command::new("apt-get")
    } else {
        let mut sudo = Command::new("sudo");
        sudo.arg("apt-get");
        sudo
    };
    run(cmd.env("DEBIAN_FRONTEND", "noninteractive").args(args))
}

/// Makes sure the `node` every task runs satisfies `ui/package.json`'s
/// `engines.node`: the one on PATH, else one installed from the npm
/// registry, put first on PATH for this process and its children.
///
/// # Errors
/// No suitable Node.js could be found or installed.
pub fn ensure_node(root: &Path) -> Result<()> {
    let wanted = node_requirement(root)?;
    if node_version("node").is_some_and(|v| satisfies(&wanted, &v)) {
        return Ok(());
    }
    let major = wanted
        .split("||")
        .filter_map(|part| {
            part.trim()
                .trim_start_matches(['^', '>', '=', '~'])
                .split('.')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .max()
        .context("ui/package.json's engines.node names no version")?;
    let home = env::var_os("HOME").context("HOME is not set")?;
    let prefix = Path::new(&home).join(".cache/tickstream/node");
    let arch = match env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => bail!("no Node.js package for {other}: install Node.js {wanted}"),
    };
    let package = format!("node-linux-{arch}");
    let bin = prefix.join("node_modules").join(&package).join("bin");
    let installed = bin.join("node");
    if !node_version(&installed).is_some_and(|v| satisfies(&wanted, &v)) {
        let found = node_version("node").map_or("none".into(), |v| v.to_string());
        println!(
            "Node.js {found} does not satisfy {wanted} (Vite's): installing {package}@{major} from the npm registry"
        );
        std::fs::create_dir_all(&prefix)?;
        run(npm()
            .args([
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
            ])
            .arg(&prefix)
            .arg(format!("{package}@{major}")))?;
    }
    match node_version(&installed) {
        Some(version) if satisfies(&wanted, &version) => {
            let path = env::var_os("PATH").unwrap_or_default();
            let paths = std::iter::once(bin).chain(env::split_paths(&path));
            let joined = env::join_paths(paths)?;
            // SAFETY: set before this task starts any thread; every child
            // process inherits it.
            unsafe { env::set_var("PATH", joined) };
            Ok(())
        }
        _ => bail!(
            "could not install a Node.js satisfying {wanted}: install one (e.g. from nodejs.org) and run again"
        ),
    }
}

/// `engines.node` of `ui/package.json`, e.g. `^20.19.0 || >=22.12.0`.
fn node_requirement(root: &Path) -> Result<String> {
    let text = std::fs::read_to_string(root.join("ui/package.json"))?;
    let manifest: serde_json::Value = serde_json::from_str(&text)?;
    manifest["engines"]["node"]
        .as_str()
        .map(str::to_owned)
        .context("ui/package.json has no engines.node")
}

/// The version `node --version` reports, if it runs.
fn node_version(node: impl AsRef<std::ffi::OsStr>) -> Option<semver::Version> {
    let out = Command::new(node).arg("--version").output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    semver::Version::parse(text.trim().trim_start_matches('v')).ok()
}

/// Whether `version` meets `requirement` (npm's `A || B` of Cargo-style
/// comparators, which cover `^20.19.0` and `>=22.12.0`).
fn satisfies(requirement: &str, version: &semver::Version) -> bool {
    requirement
        .split("||")
        .any(|part| semver::VersionReq::parse(part.trim()).is_ok_and(|req| req.matches(version)))
}

#[cfg(test)]
mod tests {
    use super::satisfies;

    #[test]
    fn reads_npm_engine_ranges() {
        let vite = "^20.19.0 || >=22.12.0";
        let ok = |v: &str| satisfies(vite, &semver::Version::parse(v).unwrap());
        assert!(ok("20.19.0") && ok("20.20.2") && ok("22.12.0") && ok("24.1.0"));
        assert!(!ok("18.19.0") && !ok("20.18.1") && !ok("22.11.0"));
    }
}
