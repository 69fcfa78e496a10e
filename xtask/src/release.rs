//! Releases. `cargo xtask release` builds the host's installers with their
//! updater artifacts signed by `TAURI_SIGNING_PRIVATE_KEY`, verifies every
//! signature against the public key the app trusts, and writes the host's
//! part of the update manifest beside copies of the artifacts;
//! `cargo xtask merge-manifests` joins the platforms' parts into the one
//! `latest.json` the updater reads, and fails when a platform or a
//! signature is missing. The manifest is the updater's static JSON format:
//! `{version, notes, pub_date, platforms: {"linux-x86_64-deb": {signature, url}, …}}`.

use std::{
    collections::BTreeMap,
    env,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail};
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::{build_ui, run, target_dir};

/// The update manifest, or one platform's part of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The release's version (semver, no `v`).
    pub version: String,
    /// Release notes shown in the update dialog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// When it was published, RFC 3339.
    pub pub_date: String,
    /// The artifact of each `{os}-{arch}` and `{os}-{arch}-{installer}`.
    pub platforms: BTreeMap<String, Artifact>,
}

/// One downloadable update and its signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// The `.sig` file's content.
    pub signature: String,
    /// Where to download it.
    pub url: String,
}

/// What a complete release has: every installer the updater can update
/// on each platform, and the plain `{os}-{arch}` fallbacks.
pub const EVERY_PLATFORM: &[&str] = &[
    "linux-x86_64",
    "linux-x86_64-appimage",
    "linux-x86_64-deb",
    "linux-x86_64-rpm",
    "windows-x86_64",
    "windows-x86_64-nsis",
    "windows-x86_64-msi",
    "darwin-x86_64",
    "darwin-x86_64-app",
    "darwin-aarch64",
    "darwin-aarch64-app",
];

/// How `cargo xtask release` builds.
pub struct Options {
    /// Tauri bundle names, e.g. `deb,rpm,appimage`; the host's set when empty.
    pub bundles: Vec<String>,
    /// A Rust target (e.g. `universal-apple-darwin`); the host when `None`.
    pub target: Option<String>,
    /// Where the artifacts will be downloaded from; their file names are appended.
    pub base_url: String,
    /// Release notes.
    pub notes: Option<String>,
    /// Tauri configuration merged over tauri.conf.json (JSON), e.g. a version.
    pub config: Option<serde_json::Value>,
    /// Where the artifacts and the manifest part go.
    pub out: PathBuf,
    /// A signing key without a password, instead of the environment's.
    pub key: Option<String>,
}

/// The updater's name for each bundle that has an updater artifact, and
/// how its file name ends.
const UPDATABLE: &[(&str, &str, &str)] = &[
    // (bundle, installer, file suffix)
    ("appimage", "appimage", ".AppImage"),
    ("deb", "deb", ".deb"),
    ("rpm", "rpm", ".rpm"),
    ("nsis", "nsis", "-setup.exe"),
    ("msi", "msi", ".msi"),
    ("app", "app", ".app.tar.gz"),
];

/// Builds, signs, verifies and describes the host's release; returns the
/// manifest part's path.
///
/// # Errors
/// No signing key, a failed build, a missing or wrong signature.
pub fn build(root: &Path, options: &Options) -> Result<PathBuf> {
    if options.key.is_none() && env::var_os("TAURI_SIGNING_PRIVATE_KEY").is_none() {
        bail!(
            "TAURI_SIGNING_PRIVATE_KEY is not set: a release's updater artifacts must be signed \
             (the key from `tauri signer generate`, its password in TAURI_SIGNING_PRIVATE_KEY_PASSWORD)"
        );
    }
    let config = effective_config(root, options.config.as_ref())?;
    let version = config["version"]
        .as_str()
        .context("tauri.conf.json has no version")?
        .to_owned();
    let pubkey = config["plugins"]["updater"]["pubkey"]
        .as_str()
        .context("tauri.conf.json has no plugins.updater.pubkey")?
        .to_owned();
    let bundles = if options.bundles.is_empty() {
        host_bundles()
    } else {
        options.bundles.clone()
    };
    let (os, arches) = platform(options.target.as_deref())?;
    let bundle_dir = target_dir(root)
        .join(options.target.as_deref().unwrap_or(""))
        .join("release/bundle");
    // What an earlier build left must not be taken for this one's.
    for bundle in &bundles {
        let _ = std::fs::remove_dir_all(bundle_dir.join(folder(bundle)));
    }
    build_ui(root)?;
    let mut tauri = Command::new(root.join("ui/node_modules/.bin/tauri"));
    tauri
        .args(["build", "--ci", "--bundles", &bundles.join(",")])
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_STRIP", "true")
        .current_dir(root.join("src-tauri"));
    if let Some(target) = &options.target {
        tauri.args(["--target", target]);
    }
    if let Some(extra) = &options.config {
        tauri.args(["--config", &extra.to_string()]);
    }
    if let Some(key) = &options.key {
        tauri
            .env("TAURI_SIGNING_PRIVATE_KEY", key)
            .env("TAURI_SIGNING_PRIVATE_KEY_PASSWORD", "");
    }
    run(&mut tauri)?;

    std::fs::create_dir_all(&options.out)?;
    let mut platforms = BTreeMap::new();
    let mut fallback: Option<Artifact> = None;
    for (bundle, installer, suffix) in UPDATABLE {
        if !bundles.iter().any(|b| b == bundle) {
            continue;
        }
        let file = artifact(&bundle_dir.join(folder(bundle)), &version, suffix)?;
        let name = file
            .file_name()
            .expect("a file")
            .to_string_lossy()
            .into_owned();
        let signature = std::fs::read_to_string(sig_path(&file)).with_context(|| {
            format!("{name} has no .sig: was it built with createUpdaterArtifacts?")
        })?;
        verify(&pubkey, &std::fs::read(&file)?, &signature, &version)
            .with_context(|| format!("{name}'s signature"))?;
        std::fs::copy(&file, options.out.join(&name))?;
        std::fs::write(sig_path(&options.out.join(&name)), &signature)?;
        let entry = Artifact {
            signature: signature.trim().to_owned(),
            url: format!("{}/{name}", options.base_url.trim_end_matches('/')),
        };
        for arch in &arches {
            platforms.insert(format!("{os}-{arch}-{installer}"), entry.clone());
        }
        // The plain `{os}-{arch}` entry: the first of UPDATABLE built
        // (AppImage on Linux, NSIS on Windows).
        fallback.get_or_insert(entry);
    }
    let fallback = fallback.with_context(|| {
        format!("none of {bundles:?} has an updater artifact (appimage, deb, rpm, nsis, msi, app)")
    })?;
    for arch in &arches {
        platforms.insert(format!("{os}-{arch}"), fallback.clone());
    }
    let manifest = Manifest {
        version,
        notes: options.notes.clone(),
        pub_date: now_rfc3339(),
        platforms,
    };
    let path = options
        .out
        .join(format!("latest-{os}-{}.json", arches.join("-")));
    std::fs::write(&path, serde_json::to_string_pretty(&manifest)? + "\n")?;
    println!("release {}: {}", manifest.version, path.display());
    Ok(path)
}

/// Joins manifest parts into one and checks it has every platform in
/// `required`, each with a signature and an HTTPS URL.
///
/// # Errors
/// Parts of different versions, one platform described twice differently,
/// a platform missing, an entry without a signature or URL.
pub fn merge(parts: &[Manifest], required: &[&str]) -> Result<Manifest> {
    let first = parts.first().context("no manifest to merge")?;
    let mut merged = Manifest {
        version: first.version.clone(),
        notes: parts.iter().find_map(|p| p.notes.clone()),
        pub_date: parts
            .iter()
            .map(|p| p.pub_date.clone())
            .max()
            .unwrap_or_default(),
        platforms: BTreeMap::new(),
    };
    for part in parts {
        if part.version != merged.version {
            bail!(
                "manifests of two versions: {} and {}",
                merged.version,
                part.version
            );
        }
        for (platform, artifact) in &part.platforms {
            if let Some(had) = merged.platforms.get(platform)
                && had != artifact
            {
                bail!("{platform} is described twice, differently");
            }
            merged.platforms.insert(platform.clone(), artifact.clone());
        }
    }
    for (platform, artifact) in &merged.platforms {
        if artifact.signature.trim().is_empty() {
            bail!("{platform} has no signature");
        }
        if !artifact.url.starts_with("https://") {
            bail!("{platform}'s URL is not HTTPS: {}", artifact.url);
        }
    }
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|p| !merged.platforms.contains_key(*p))
        .collect();
    if !missing.is_empty() {
        bail!("the release lacks {}", missing.join(", "));
    }
    Ok(merged)
}

/// Reads manifest parts and writes their merge to `out`.
///
/// # Errors
/// As [`merge`], or an unreadable part.
pub fn merge_files(parts: &[PathBuf], required: &[&str], out: &Path) -> Result<()> {
    let parts = parts
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a manifest", path.display()))
        })
        .collect::<Result<Vec<Manifest>>>()?;
    let merged = merge(&parts, required)?;
    std::fs::write(out, serde_json::to_string_pretty(&merged)? + "\n")?;
    println!("{} platforms → {}", merged.platforms.len(), out.display());
    Ok(())
}

/// Checks a Tauri signature (a base64 minisign signature) against the
/// app's public key (a base64 minisign public key), and that it was made
/// for `version` (Tauri puts it in the trusted comment).
///
/// # Errors
/// The signature or key does not decode, or does not match.
pub fn verify(pubkey: &str, bytes: &[u8], signature: &str, version: &str) -> Result<()> {
    let decode = |text: &str| -> Result<String> {
        let raw = base64::engine::general_purpose::STANDARD.decode(text.trim())?;
        Ok(String::from_utf8(raw)?)
    };
    let key = minisign_verify::PublicKey::decode(&decode(pubkey)?)
        .map_err(|e| anyhow::anyhow!("the public key does not decode: {e}"))?;
    let signature = minisign_verify::Signature::decode(&decode(signature)?)
        .map_err(|e| anyhow::anyhow!("the signature does not decode: {e}"))?;
    key.verify(bytes, &signature, true)
        .map_err(|e| anyhow::anyhow!("it does not match the app's public key: {e}"))?;
    let comment = signature.trusted_comment();
    if !comment.contains(&format!("version:{version}")) {
        bail!("it is not bound to version {version} (trusted comment: {comment})");
    }
    Ok(())
}

/// The configuration the Tauri CLI builds with: tauri.conf.json with
/// `extra` (`--config`) merged over it key by key.
fn effective_config(root: &Path, extra: Option<&serde_json::Value>) -> Result<serde_json::Value> {
    let path = root.join("src-tauri/tauri.conf.json");
    let mut config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path)?)
        .with_context(|| format!("{} is not JSON", path.display()))?;
    if let Some(extra) = extra {
        merge_json(&mut config, extra);
    }
    Ok(config)
}

fn merge_json(base: &mut serde_json::Value, over: &serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(base), serde_json::Value::Object(over)) => {
            for (key, value) in over {
                merge_json(
                    base.entry(key.clone()).or_insert(serde_json::Value::Null),
                    value,
                );
            }
        }
        (base, over) => *base = over.clone(),
    }
}

/// The installers a release has on this host.
fn host_bundles() -> Vec<String> {
    let bundles: &[&str] = if cfg!(windows) {
        &["nsis", "msi"]
    } else if cfg!(target_os = "macos") {
        &["app", "dmg"]
    } else {
        &["appimage", "deb", "rpm"]
    };
    bundles.iter().map(|b| (*b).to_owned()).collect()
}

/// The updater's `{os}` and the `{arch}`es one build serves.
fn platform(target: Option<&str>) -> Result<(&'static str, Vec<&'static str>)> {
    let os = if cfg!(windows) {
        "windows"
    } else if cfg!(target_os = "macos") {
        "darwin"
    } else if cfg!(target_os = "linux") {
        "linux"
    } else {
        bail!("the updater has no releases for {}", env::consts::OS)
    };
    let arches = match target {
        Some("universal-apple-darwin") => vec!["x86_64", "aarch64"],
        Some(target) if target.starts_with("aarch64") => vec!["aarch64"],
        Some(target) if target.starts_with("x86_64") => vec!["x86_64"],
        Some(target) => bail!("no updater architecture for target {target}"),
        None => vec![match env::consts::ARCH {
            "x86_64" => "x86_64",
            "aarch64" => "aarch64",
            other => bail!("the updater has no releases for {other}"),
        }],
    };
    Ok((os, arches))
}

/// The bundle folder Tauri writes a bundle into.
fn folder(bundle: &str) -> &str {
    match bundle {
        "app" => "macos",
        other => other,
    }
}

/// The one file in `dir` of `version` ending with `suffix`.
fn artifact(dir: &Path, version: &str, suffix: &str) -> Result<PathBuf> {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("no bundles in {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name.ends_with(suffix) && (suffix == ".app.tar.gz" || name.contains(version))
        })
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => bail!("no *{suffix} of {version} in {}", dir.display()),
        many => bail!("several *{suffix} in {}: {many:?}", dir.display()),
    }
}

fn sig_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".sig");
    PathBuf::from(name)
}

/// Now, RFC 3339 in UTC.
fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(platforms: &[&str]) -> Manifest {
        Manifest {
            version: "1.2.3".into(),
            notes: None,
            pub_date: "2026-12-03T10:00:00Z".into(),
            platforms: platforms
                .iter()
                .map(|p| {
                    let artifact = Artifact {
                        signature: format!("sig of {p}"),
                        url: format!("https://releases.example/{p}"),
                    };
                    ((*p).to_owned(), artifact)
                })
                .collect(),
        }
    }

    #[test]
    fn merges_every_platform_and_refuses_a_missing_one() {
        let linux = part(&EVERY_PLATFORM[..4]);
        let windows = part(&EVERY_PLATFORM[4..7]);
        let mac = part(&EVERY_PLATFORM[7..]);
        let merged = merge(
            &[linux.clone(), windows.clone(), mac.clone()],
            EVERY_PLATFORM,
        )
        .unwrap();
        assert_eq!(merged.platforms.len(), EVERY_PLATFORM.len());
        let error = merge(&[linux.clone(), mac.clone()], EVERY_PLATFORM).unwrap_err();
        assert!(error.to_string().contains("windows-x86_64"), "{error}");
        let mut unsigned = windows.clone();
        unsigned
            .platforms
            .get_mut("windows-x86_64-msi")
            .unwrap()
            .signature = String::new();
        let error = merge(&[linux.clone(), unsigned, mac.clone()], EVERY_PLATFORM).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("windows-x86_64-msi has no signature"),
            "{error}"
        );
        let mut older = mac;
        older.version = "1.2.2".into();
        assert!(merge(&[linux, windows, older], EVERY_PLATFORM).is_err());
    }

    #[test]
    fn dates_are_rfc3339() {
        let now = now_rfc3339();
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.starts_with("20") && now.ends_with('Z'), "{now}");
    }
}
