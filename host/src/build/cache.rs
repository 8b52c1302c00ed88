//! The artifact cache: remembers, per digest of an artifact's inputs (config, build args,
//! dependency files), which image was built from them, so an unchanged artifact is found
//! instead of rebuilt. Per-file digests are memoised on (size, mtime, inode, mode) so that
//! unchanged files are not read again, and the inputs of each artifact's last build are kept
//! to say which files changed. Lives in the platform cache directory, not the project, in
//! postcard's compact binary form: a context of 100k files makes 200k entries, which as JSON
//! took longer to parse than the whole cache check was allowed.

use super::BuildError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How a cache lookup ended (the user sees these words).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum CacheOutcome {
    /// The engine has the image the inputs last produced, under this tag.
    #[serde(rename = "Found Locally")]
    FoundLocally,
    /// The registry has the image under this tag, with the cached digest.
    #[serde(rename = "Found Remotely")]
    FoundRemotely,
    /// The image exists under another tag: it is tagged (and pushed) instead of rebuilt.
    #[serde(rename = "Found. Tagging")]
    FoundTagging,
    #[serde(rename = "Not found. Building")]
    NotFound,
}

impl std::fmt::Display for CacheOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CacheOutcome::FoundLocally => "Found Locally",
            CacheOutcome::FoundRemotely => "Found Remotely",
            CacheOutcome::FoundTagging => "Found. Tagging",
            CacheOutcome::NotFound => "Not found. Building",
        })
    }
}

/// `~/.cache/devloop/artifacts.bin` (or the platform's equivalent).
pub fn default_cache_file() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "devloop").map(|d| d.cache_dir().join("artifacts.bin"))
}

/// The first bytes of a cache file of this layout; any other file is an empty cache.
const MAGIC: &[u8] = b"devloop-artifact-cache-2\n";

/// A file's SHA-256 (of its mode and content): kept as bytes, not hex, because a large
/// context keeps one per file in the memo and one per file in its last inputs.
pub type FileDigest = [u8; 32];

/// The image built from one set of inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedImage {
    /// The local image ID; unknown when a custom build pushed straight to the registry.
    #[serde(default)]
    pub image_id: Option<String>,
    #[serde(default)]
    pub digest: Option<String>,
}

/// The inputs of an artifact's last build, to explain the next miss.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastInputs {
    pub key: String,
    pub config: String,
    pub files: BTreeMap<String, FileDigest>,
}

/// A file's size, modification time (ns), inode and mode: what says it may have changed.
#[cfg(unix)]
fn stat(meta: &std::fs::Metadata) -> (u64, i128, u64, u32) {
    use std::os::unix::fs::MetadataExt;
    let mtime_ns = meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128;
    (meta.size(), mtime_ns, meta.ino(), meta.mode())
}

/// Without inodes and mode bits (Windows): size and modification time, and the mode a
/// regular file gets in the build context's tar.
#[cfg(not(unix))]
fn stat(meta: &std::fs::Metadata) -> (u64, i128, u64, u32) {
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i128);
    (meta.len(), mtime_ns, 0, 0o644)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FileStamp {
    size: u64,
    mtime_ns: i128,
    inode: u64,
    mode: u32,
    digest: FileDigest,
}

/// The cache file's content.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Cache {
    #[serde(default)]
    images: BTreeMap<String, CachedImage>,
    #[serde(default)]
    last: BTreeMap<String, LastInputs>,
    #[serde(default)]
    files: BTreeMap<String, FileStamp>,
    /// Whether anything was learnt since `load`: an unchanged check of a large context
    /// must not rewrite (and first re-read, to merge) a file of one entry per source.
    #[serde(skip)]
    changed: bool,
}

/// The digested inputs of one artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    /// The cache key (hex): also the `inputDigest` tag.
    pub key: String,
    /// Digest of the artifact's config and build args.
    pub config: String,
    /// Digest per dependency file.
    pub files: BTreeMap<String, FileDigest>,
}

impl Cache {
    /// Reads the cache file; a missing or unreadable one is an empty cache (it is only a
    /// cache: the worst case is a rebuild).
    pub fn load(path: &Path) -> Cache {
        std::fs::read(path)
            .ok()
            .and_then(|b| postcard::from_bytes(b.strip_prefix(MAGIC)?).ok())
            .unwrap_or_default()
    }

    /// Writes the cache file atomically (write then rename). Several devloop processes may
    /// build at once (two terminals, `dev` beside `run`): under a lock, the file is read again
    /// and this cache's entries are merged into it, so no process drops another's results.
    pub fn save(&self, path: &Path) -> Result<(), BuildError> {
        let err = |e: std::io::Error| {
            BuildError::Io(format!(
                "cannot write the artifact cache {}: {e}",
                path.display()
            ))
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(err)?;
        }
        let lock = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path.with_extension("lock"))
            .map_err(err)?;
        lock.lock().map_err(err)?;
        let mut merged = Cache::load(path);
        merged.images.extend(self.images.clone());
        merged.last.extend(self.last.clone());
        merged.files.extend(self.files.clone());
        let mut bytes = MAGIC.to_vec();
        bytes.extend(postcard::to_stdvec(&merged).map_err(|e| BuildError::Io(e.to_string()))?);
        crate::atomic_file::write(path, &bytes).map_err(err)
    }

    /// Digests the inputs: `config` is a canonical text of the artifact's settings, `files`
    /// its dependency files relative to `context`.
    pub fn inputs(
        &mut self,
        config: &str,
        context: &Path,
        files: &[String],
    ) -> Result<Inputs, BuildError> {
        let config = hex::encode(Sha256::digest(config.as_bytes()));
        let digests = self.file_digests(context, files)?;
        let mut key = Sha256::new();
        key.update(b"devloop-artifact-v1\n");
        key.update(config.as_bytes());
        key.update(b"\n");
        let mut hex_digest = [0u8; 64];
        for (rel, d) in files.iter().zip(&digests) {
            hex::encode_to_slice(d, &mut hex_digest).expect("64 hex digits for 32 bytes");
            key.update(rel.as_bytes());
            key.update(b"\0");
            key.update(hex_digest);
            key.update(b"\n");
        }
        Ok(Inputs {
            key: hex::encode(key.finalize()),
            config,
            files: files.iter().cloned().zip(digests).collect(),
        })
    }

    /// The digests of `files` (relative to `context`), in their order. Each file is stat-ed
    /// and only read when its stat differs from the memo; both passes are spread over the
    /// machine's cores, since a large context is 100k stat calls even when nothing changed.
    fn file_digests(
        &mut self,
        context: &Path,
        files: &[String],
    ) -> Result<Vec<FileDigest>, BuildError> {
        let memo = &self.files;
        let known = parallel_map(files, |rel| {
            let path = context.join(rel);
            let meta = std::fs::symlink_metadata(&path).map_err(|e| unreadable(&path, e))?;
            Ok(memo
                .get(path.to_string_lossy().as_ref())
                .filter(|s| (s.size, s.mtime_ns, s.inode, s.mode) == stat(&meta))
                .map(|s| s.digest))
        })?;
        // Files whose stat changed are read (a second stat each: few files, and one entry
        // per file of a large context stays small).
        let unknown: Vec<usize> = (0..files.len()).filter(|&i| known[i].is_none()).collect();
        let read = parallel_map(&unknown, |&i| {
            let path = context.join(&files[i]);
            let meta = std::fs::symlink_metadata(&path).map_err(|e| unreadable(&path, e))?;
            let digest = digest_file(&path, &meta)?;
            Ok((path, stat(&meta), digest))
        })?;
        let mut digests: Vec<FileDigest> =
            known.into_iter().map(Option::unwrap_or_default).collect();
        for (i, (path, (size, mtime_ns, inode, mode), digest)) in unknown.into_iter().zip(read) {
            digests[i] = digest;
            self.changed = true;
            self.files.insert(
                path.to_string_lossy().into_owned(),
                FileStamp {
                    size,
                    mtime_ns,
                    inode,
                    mode,
                    digest,
                },
            );
        }
        Ok(digests)
    }

    /// The digest of one file, memoised as `inputs` does.
    #[cfg(test)]
    fn file_digest(&mut self, path: &Path) -> Result<FileDigest, BuildError> {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        Ok(self.file_digests(path.parent().unwrap(), &[name])?[0])
    }

    pub fn image(&self, key: &str) -> Option<&CachedImage> {
        self.images.get(key)
    }

    /// Records a build: the image made from `inputs`, and `inputs` as the artifact's last.
    pub fn record(&mut self, artifact_id: &str, inputs: &Inputs, image: CachedImage) {
        if self.images.get(&inputs.key) != Some(&image) {
            self.changed = true;
            self.images.insert(inputs.key.clone(), image);
        }
        self.remember(artifact_id, inputs);
    }

    /// Whether `save` has anything to write.
    pub fn is_changed(&self) -> bool {
        self.changed
    }

    /// Remembers `inputs` as the artifact's last, for the next explanation.
    pub fn remember(&mut self, artifact_id: &str, inputs: &Inputs) {
        if self.last.get(artifact_id).is_some_and(|l| {
            l.key == inputs.key && l.config == inputs.config && l.files == inputs.files
        }) {
            return;
        }
        self.changed = true;
        self.last.insert(
            artifact_id.to_string(),
            LastInputs {
                key: inputs.key.clone(),
                config: inputs.config.clone(),
                files: inputs.files.clone(),
            },
        );
    }

    /// Why `inputs` miss the cache, compared with the artifact's last build: the changed,
    /// added and removed files, or that the config changed.
    pub fn explain_miss(&self, artifact_id: &str, inputs: &Inputs) -> Vec<String> {
        let Some(last) = self.last.get(artifact_id) else {
            return vec!["no earlier build".to_string()];
        };
        let mut reasons = Vec::new();
        if last.config != inputs.config {
            reasons.push("config or build args changed".to_string());
        }
        for (f, d) in &inputs.files {
            match last.files.get(f) {
                None => reasons.push(format!("{f} added")),
                Some(old) if old != d => reasons.push(format!("{f} changed")),
                _ => {}
            }
        }
        for f in last.files.keys() {
            if !inputs.files.contains_key(f) {
                reasons.push(format!("{f} removed"));
            }
        }
        if reasons.is_empty() {
            reasons.push("the image built from these inputs is gone".to_string());
        }
        reasons
    }
}

fn unreadable(path: &Path, e: std::io::Error) -> BuildError {
    BuildError::Io(format!("cannot read {}: {e}", path.display()))
}

/// The digest of one file's content and mode.
fn digest_file(path: &Path, meta: &std::fs::Metadata) -> Result<FileDigest, BuildError> {
    let content = if meta.file_type().is_symlink() {
        std::fs::read_link(path).map(|t| t.to_string_lossy().into_owned().into_bytes())
    } else if let Some(kind) = super::context::special_kind(&meta.file_type()) {
        // Listed by a plugin or a dependencies command: a FIFO would block the read, and
        // a device has no content to digest. Its kind and mode stand for it.
        Ok(kind.as_bytes().to_vec())
    } else {
        std::fs::read(path)
    }
    .map_err(|e| unreadable(path, e))?;
    let (_, _, _, mode) = stat(meta);
    let mut h = Sha256::new();
    h.update(format!("{:o}\n", mode & 0o7777).as_bytes());
    h.update(&content);
    Ok(h.finalize().into())
}

/// `f` over `items` on up to one thread per core (few items stay on this thread), results
/// in the items' order; the first error wins.
fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R, BuildError> + Sync,
) -> Result<Vec<R>, BuildError> {
    const PER_THREAD_AT_LEAST: usize = 2_048;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len().div_ceil(PER_THREAD_AT_LEAST));
    if threads <= 1 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&f).collect::<Result<Vec<R>, _>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for worker in workers {
            out.extend(
                worker
                    .join()
                    .map_err(|_| BuildError::Io("a digesting thread panicked".into()))??,
            );
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_fifo_is_digested_without_being_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let made = std::process::Command::new("mkfifo")
            .arg(root.join("pipe"))
            .status()
            .unwrap();
        assert!(made.success());
        // A read would block forever: nothing writes to the FIFO.
        let inputs = Cache::default()
            .inputs("cfg", root, &["pipe".to_string()])
            .unwrap();
        assert_eq!(inputs.files.len(), 1);
    }

    #[test]
    fn key_follows_content_not_timestamps() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("a.c"), "one").unwrap();
        std::fs::write(root.join("b.c"), "two").unwrap();
        let files = vec!["a.c".to_string(), "b.c".to_string()];
        let mut cache = Cache::default();
        let first = cache.inputs("cfg", root, &files).unwrap();

        // Rewriting the same content (new mtime) keeps the key.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(root.join("a.c"), "one").unwrap();
        assert_eq!(cache.inputs("cfg", root, &files).unwrap().key, first.key);

        // The config takes part.
        let other_cfg = cache.inputs("cfg2", root, &files).unwrap();
        assert_ne!(other_cfg.key, first.key);

        cache.record(
            "app",
            &first,
            CachedImage {
                image_id: Some("sha256:1".into()),
                digest: None,
            },
        );
        assert_eq!(
            cache.explain_miss("app", &other_cfg),
            vec!["config or build args changed"]
        );

        std::fs::write(root.join("b.c"), "three").unwrap();
        let changed = cache.inputs("cfg", root, &files).unwrap();
        assert_ne!(changed.key, first.key);
        assert_eq!(cache.explain_miss("app", &changed), vec!["b.c changed"]);

        let fewer = cache.inputs("cfg", root, &files[..1]).unwrap();
        assert_eq!(cache.explain_miss("app", &fewer), vec!["b.c removed"]);
    }

    #[test]
    fn memo_avoids_rereading_unchanged_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x");
        std::fs::write(&f, "x").unwrap();
        let mut cache = Cache::default();
        let d1 = cache.file_digest(&f).unwrap();
        // Forge the memo: an unchanged stat must return the memoised digest unread.
        cache
            .files
            .get_mut(&f.to_string_lossy().into_owned())
            .unwrap()
            .digest = [7; 32];
        assert_eq!(cache.file_digest(&f).unwrap(), [7; 32]);
        assert_ne!(d1, [7; 32]);
    }

    #[test]
    fn a_large_context_is_digested_in_order_across_threads() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<String> = (0..5_000).map(|i| format!("f{i:05}")).collect();
        for (i, f) in files.iter().enumerate() {
            std::fs::write(dir.path().join(f), i.to_string()).unwrap();
        }
        let mut cache = Cache::default();
        let cold = cache.inputs("cfg", dir.path(), &files).unwrap();
        for (i, f) in files.iter().enumerate() {
            let meta = std::fs::metadata(dir.path().join(f)).unwrap();
            let mut h = Sha256::new();
            h.update(format!("{:o}\n", stat(&meta).3 & 0o7777).as_bytes());
            h.update(i.to_string().as_bytes());
            let want: FileDigest = h.finalize().into();
            assert_eq!(cold.files[f], want, "{f}");
        }
        // The memoised pass gives the same key; one changed file changes only its digest.
        assert_eq!(cache.inputs("cfg", dir.path(), &files).unwrap(), cold);
        cache.remember("app", &cold);
        std::fs::write(dir.path().join("f04321"), "changed").unwrap();
        let warm = cache.inputs("cfg", dir.path(), &files).unwrap();
        assert_ne!(warm.key, cold.key);
        assert_eq!(cache.explain_miss("app", &warm), vec!["f04321 changed"]);
    }

    #[test]
    fn concurrent_savers_keep_each_others_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("artifacts.bin");
        let image = |id: &str| CachedImage {
            image_id: Some(id.to_string()),
            digest: None,
        };
        // both processes loaded the (empty) file before either saved
        let mut first = Cache::load(&path);
        let mut second = Cache::load(&path);
        first.images.insert("key-a".into(), image("sha256:a"));
        second.images.insert("key-b".into(), image("sha256:b"));
        first.save(&path).unwrap();
        second.save(&path).unwrap();
        let loaded = Cache::load(&path);
        assert_eq!(loaded.images.get("key-a"), Some(&image("sha256:a")));
        assert_eq!(loaded.images.get("key-b"), Some(&image("sha256:b")));
    }

    #[test]
    fn save_and_load_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/artifacts.bin");
        let mut cache = Cache::default();
        let inputs = Inputs {
            key: "k".into(),
            config: "c".into(),
            files: BTreeMap::new(),
        };
        cache.record(
            "app",
            &inputs,
            CachedImage {
                image_id: Some("sha256:abc".into()),
                digest: Some("sha256:def".into()),
            },
        );
        cache.save(&path).unwrap();
        let loaded = Cache::load(&path);
        assert_eq!(
            loaded.image("k").unwrap().image_id.as_deref(),
            Some("sha256:abc")
        );
        // A file of another layout (the JSON of older versions) is an empty cache.
        std::fs::write(dir.path().join("old.json"), r#"{"images":{}}"#).unwrap();
        assert!(
            Cache::load(&dir.path().join("old.json"))
                .image("k")
                .is_none()
        );
        assert!(
            Cache::load(&dir.path().join("missing.bin"))
                .image("k")
                .is_none()
        );
    }
}
