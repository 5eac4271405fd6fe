//! Embeds the browser client (`client-js/src`) so the server can serve it at
//! `{path}ferrio.js` without a build step or files on disk at run time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, base: &Path, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, base, out);
        } else if path.extension().is_some_and(|e| e == "js") {
            if let Ok(rel) = path.strip_prefix(base) {
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push((rel, path));
            }
        }
    }
}

/// FNV-1a, for the ETag of each file.
fn fnv(data: &[u8]) -> u64 {
    data.iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let src = manifest.join("../client-js/src");
    println!("cargo:rerun-if-changed={}", src.display());
    let mut files = Vec::new();
    collect(&src, &src, &mut files);
    let mut code = String::from("&[\n");
    for (rel, path) in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let etag = std::fs::read(path).map(|d| fnv(&d)).unwrap_or(0);
        let _ = writeln!(
            code,
            "    ({rel:?}, include_str!({:?}), \"\\\"{etag:016x}\\\"\"),",
            path.display().to_string()
        );
    }
    code.push(']');
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("client_js.rs");
    if let Err(e) = std::fs::write(&out, code) {
        println!("cargo:warning=cannot write {}: {e}", out.display());
    }
}
