//! Embeds the browser client so the server serves it without a build step or files on disk at
//! run time: the ES modules of `client-js/src` (`{path}ferrio.js` is `index.js`) and the
//! committed classic-script build `client-js/dist/ferrio.min.js` with its source map. Each
//! file is also gzipped here, once, for requests that accept it.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::Compression;

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

/// `data` gzipped at the best level (the header carries no time: the same bytes each build).
fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(data)?;
    encoder.finish()
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
    let src = manifest.join("../client-js/src");
    let dist = manifest.join("../client-js/dist");
    println!("cargo:rerun-if-changed={}", src.display());
    println!("cargo:rerun-if-changed={}", dist.display());
    let mut files = Vec::new();
    collect(&src, &src, &mut files);
    for name in ["ferrio.min.js", "ferrio.min.js.map"] {
        files.push((name.to_owned(), dist.join(name)));
    }
    // (served name, path, gzipped copy in OUT_DIR, ETag)
    let mut code = String::from("&[\n");
    for (i, (rel, path)) in files.iter().enumerate() {
        println!("cargo:rerun-if-changed={}", path.display());
        let Ok(data) = std::fs::read(path) else {
            println!("cargo:warning=the browser client file {} is missing", path.display());
            continue;
        };
        let gz_path = out_dir.join(format!("client-{i}.gz"));
        if let Err(e) = gzip(&data).and_then(|gz| std::fs::write(&gz_path, gz)) {
            println!("cargo:warning=cannot write {}: {e}", gz_path.display());
            continue;
        }
        let _ = writeln!(
            code,
            "    ClientFile {{ name: {rel:?}, body: include_bytes!({:?}), gzip: include_bytes!({:?}), etag: \"{:016x}\" }},",
            path.display().to_string(),
            gz_path.display().to_string(),
            fnv(&data),
        );
    }
    code.push(']');
    let out = out_dir.join("client_js.rs");
    if let Err(e) = std::fs::write(&out, code) {
        println!("cargo:warning=cannot write {}: {e}", out.display());
    }
}
