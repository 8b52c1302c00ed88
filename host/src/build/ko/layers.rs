//! The two layers ko puts on the base image, as deterministic gzipped tars: the same input
//! gives the same bytes (entries sorted, one fixed time, owner 0:0, fixed modes, a gzip
//! header without name or time), so an unchanged source gives an unchanged image digest.
//! - kodata: the main package's `kodata/` directory at `/var/run/ko` (symlinks followed);
//! - app: the binary at `/ko-app/<name>`.

use crate::build::BuildError;
use crate::oci::Digest;
use std::io::Write;
use std::path::Path;

/// Where `kodata/` is shipped, and the value of `KO_DATA_PATH`.
pub const KODATA_ROOT: &str = "/var/run/ko";
/// The directory holding the binary; added to PATH.
pub const APP_DIR: &str = "/ko-app";
/// Every entry's mode: readable and executable by anyone, writable by none, whatever the
/// umask the files were made under (as ko writes them).
const MODE: u32 = 0o555;

/// A layer ready to use: the gzipped tar, its digest, and the digest of the tar itself
/// (the image config's `diff_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub gzipped: Vec<u8>,
    pub digest: Digest,
    pub diff_id: Digest,
}

impl Layer {
    fn from_tar(tar: Vec<u8>) -> Result<Layer, BuildError> {
        let diff_id = Digest::of(&tar);
        // No file name and mtime 0 in the gzip header: only the content decides the bytes.
        // The fastest level, as ko's image library compresses layers: a layer is pushed once
        // and read from a nearby registry, where compressing harder costs more than it saves.
        let mut gz = flate2::GzBuilder::new()
            .mtime(0)
            .write(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar)
            .and_then(|_| gz.finish())
            .map(|gzipped| Layer {
                digest: Digest::of(&gzipped),
                gzipped,
                diff_id,
            })
            .map_err(|e| BuildError::Io(format!("cannot compress a layer: {e}")))
    }
}

/// A tar being written with fixed metadata.
struct Tar {
    builder: tar::Builder<Vec<u8>>,
    mtime: u64,
}

impl Tar {
    fn new(mtime: u64) -> Tar {
        Tar {
            builder: tar::Builder::new(Vec::new()),
            mtime,
        }
    }

    fn header(&self, kind: tar::EntryType, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(MODE);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(self.mtime);
        h.set_size(size);
        h
    }

    fn dir(&mut self, path: &str) -> Result<(), BuildError> {
        let mut h = self.header(tar::EntryType::Directory, 0);
        self.builder
            .append_data(
                &mut h,
                format!("{}/", path.trim_matches('/')),
                std::io::empty(),
            )
            .map_err(|e| BuildError::Io(format!("cannot write {path} into a layer: {e}")))
    }

    fn file(&mut self, path: &str, bytes: &[u8]) -> Result<(), BuildError> {
        let mut h = self.header(tar::EntryType::Regular, bytes.len() as u64);
        self.builder
            .append_data(&mut h, path.trim_start_matches('/'), bytes)
            .map_err(|e| BuildError::Io(format!("cannot write {path} into a layer: {e}")))
    }

    /// `path`'s parent directories, outermost first (`/var/run/ko` → var, var/run, var/run/ko).
    fn dirs(&mut self, path: &str) -> Result<(), BuildError> {
        let mut at = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            at.push('/');
            at.push_str(part);
            self.dir(&at)?;
        }
        Ok(())
    }

    fn finish(self) -> Result<Layer, BuildError> {
        let tar = self
            .builder
            .into_inner()
            .map_err(|e| BuildError::Io(format!("cannot finish a layer: {e}")))?;
        Layer::from_tar(tar)
    }
}

/// The layer with `binary` at `/ko-app/<name>`.
pub fn app_layer(name: &str, binary: &[u8], mtime: u64) -> Result<Layer, BuildError> {
    let mut tar = Tar::new(mtime);
    tar.dirs(APP_DIR)?;
    tar.file(&format!("{APP_DIR}/{name}"), binary)?;
    tar.finish()
}

/// The layer with the files of `kodata` (if it exists) under `/var/run/ko`, in sorted order.
pub fn kodata_layer(kodata: &Path, mtime: u64) -> Result<Layer, BuildError> {
    let mut tar = Tar::new(mtime);
    tar.dirs(KODATA_ROOT)?;
    if kodata.is_dir() {
        add_tree(&mut tar, kodata, KODATA_ROOT, 0)?;
    }
    tar.finish()
}

/// How deep symlinked directories may nest before a loop is assumed.
const MAX_DEPTH: usize = 64;

fn add_tree(tar: &mut Tar, dir: &Path, at: &str, depth: usize) -> Result<(), BuildError> {
    if depth > MAX_DEPTH {
        return Err(BuildError::Config(format!(
            "{} nests more than {MAX_DEPTH} directories deep (a symlink loop?)",
            dir.display()
        )));
    }
    let read = |e: std::io::Error| BuildError::Io(format!("cannot read {}: {e}", dir.display()));
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(read)?
        .collect::<Result<_, _>>()
        .map_err(read)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return Err(BuildError::Config(format!(
                "{}: the file name is not UTF-8; rename it to ship it in kodata",
                path.display()
            )));
        };
        let target = format!("{at}/{name}");
        // Symlinks are followed: the image holds what they point at, as ko ships it.
        let meta = std::fs::metadata(&path)
            .map_err(|e| BuildError::Io(format!("cannot read {}: {e}", path.display())))?;
        if meta.is_dir() {
            tar.dir(&target)?;
            add_tree(tar, &path, &target, depth + 1)?;
        } else if meta.is_file() {
            let bytes = std::fs::read(&path)
                .map_err(|e| BuildError::Io(format!("cannot read {}: {e}", path.display())))?;
            tar.file(&target, &bytes)?;
        } else {
            return Err(BuildError::Config(format!(
                "{} is neither a file nor a directory; kodata can only ship those",
                path.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn entries(layer: &Layer) -> Vec<(String, u32, u64, u64)> {
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(layer.gzipped.as_slice())
            .read_to_end(&mut tar)
            .unwrap();
        assert_eq!(Digest::of(&tar), layer.diff_id);
        let mut archive = tar::Archive::new(tar.as_slice());
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let h = e.header();
                (
                    e.path().unwrap().display().to_string(),
                    h.mode().unwrap(),
                    h.mtime().unwrap(),
                    h.uid().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn the_app_layer_holds_the_binary_under_ko_app() {
        let layer = app_layer("hello", b"\x7fELF", 1_700_000_000).unwrap();
        assert_eq!(
            entries(&layer),
            [
                ("ko-app/".to_string(), 0o555, 1_700_000_000, 0),
                ("ko-app/hello".to_string(), 0o555, 1_700_000_000, 0),
            ]
        );
        assert_eq!(layer.digest, Digest::of(&layer.gzipped));
    }

    #[test]
    fn layers_are_deterministic_whatever_the_file_times_and_order() {
        let make = |order: &[&str]| {
            let dir = tempfile::tempdir().unwrap();
            let kodata = dir.path().join("kodata");
            std::fs::create_dir_all(kodata.join("static")).unwrap();
            for name in order {
                std::fs::write(kodata.join(name), format!("content of {name}")).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            kodata_layer(&kodata, 0).unwrap()
        };
        let a = make(&["b.txt", "a.txt", "static/index.html"]);
        let b = make(&["static/index.html", "a.txt", "b.txt"]);
        assert_eq!(a, b, "same content, same bytes");
        let names: Vec<String> = entries(&a).into_iter().map(|e| e.0).collect();
        assert_eq!(
            names,
            [
                "var/",
                "var/run/",
                "var/run/ko/",
                "var/run/ko/a.txt",
                "var/run/ko/b.txt",
                "var/run/ko/static/",
                "var/run/ko/static/index.html"
            ]
        );
        assert_ne!(
            kodata_layer(Path::new("/nonexistent"), 0).unwrap().digest,
            a.digest
        );
        assert_ne!(
            app_layer("x", b"1", 0).unwrap().digest,
            app_layer("x", b"1", 1).unwrap().digest,
            "the time is part of the content"
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_in_kodata_are_followed() {
        let dir = tempfile::tempdir().unwrap();
        let kodata = dir.path().join("kodata");
        std::fs::create_dir(&kodata).unwrap();
        std::fs::write(dir.path().join("real.txt"), "real").unwrap();
        std::os::unix::fs::symlink(dir.path().join("real.txt"), kodata.join("link.txt")).unwrap();
        let layer = kodata_layer(&kodata, 0).unwrap();
        let link = entries(&layer)
            .into_iter()
            .find(|e| e.0.ends_with("link.txt"))
            .unwrap();
        assert_eq!(link.1, 0o555);
    }
}
