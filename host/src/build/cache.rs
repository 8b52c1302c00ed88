//! The artifact cache: remembers, per digest of an artifact's inputs (config, build args,
//! dependency files), which image was built from them, so an unchanged artifact is found
//! instead of rebuilt. Per-file digests are memoised on (size, mtime, ctime, inode, mode) so
//! that unchanged files are not read again, and the inputs of each artifact's last build are
//! kept to say which files changed. Lives in the platform cache directory, not the project, in
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
const MAGIC: &[u8] = b"devloop-artifact-cache-3\n";

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

/// The inputs of an artifact's last build: to explain the next miss, and the memo of its
/// files' digests (a file whose stat is unchanged is not read again).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastInputs {
    pub key: String,
    pub config: String,
    /// Sorted by name.
    pub files: Vec<FileEntry>,
}

/// One dependency file: its name (relative to the context), what its stat said when it was
/// digested, and its digest. Kept per artifact in one sorted list rather than in maps keyed
/// by absolute paths: a context of 100k files is then 100k small entries, found by a
/// binary search, not several maps of long keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    stamp: Stamp,
    pub digest: FileDigest,
}

/// What a file's stat says that changes when its content may have: size, modification
/// and change times, inode and mode. The change time catches a rewrite that puts the old
/// modification time back (`cp -p`, `touch -r`); the inode, a file replaced by a rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    mtime: (i64, u32),
    ctime: (i64, u32),
    inode: u64,
    mode: u32,
}

/// Nanoseconds no stat gives: the stamp of a file digested too soon after it was changed
/// matches no stat, so the file is read again at the next check (see [`Stamp::settled`]).
const UNSETTLED: u32 = u32::MAX;

/// How long after a change a file's stamp is trusted. File systems keep times at a coarse
/// grain (the kernel tick, one second, two on FAT): a file changed again within the grain
/// of its digest, with the same size, keeps its stamp. Until its times are this old, its
/// digest is not memoised (as Git does with entries as new as its index).
const SETTLE: std::time::Duration = std::time::Duration::from_secs(3);

impl Stamp {
    /// This stamp, or one that matches no stat when the file changed less than [`SETTLE`]
    /// before `now` (or after it: a clock ahead of this one).
    fn settled(self, now: std::time::SystemTime) -> Stamp {
        let newest = self.mtime.max(self.ctime);
        let trusted_from = u64::try_from(newest.0)
            .ok()
            .map(|secs| std::time::Duration::new(secs, newest.1.min(999_999_999)))
            .and_then(|since_epoch| std::time::UNIX_EPOCH.checked_add(since_epoch + SETTLE));
        match trusted_from {
            Some(from) if from <= now => self,
            _ => Stamp {
                mtime: (self.mtime.0, UNSETTLED),
                ..self
            },
        }
    }
}

#[cfg(unix)]
fn stat(meta: &std::fs::Metadata) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    Stamp {
        size: meta.size(),
        mtime: (meta.mtime(), meta.mtime_nsec() as u32),
        ctime: (meta.ctime(), meta.ctime_nsec() as u32),
        inode: meta.ino(),
        mode: meta.mode(),
    }
}

/// Without inodes, change times and mode bits (Windows): size and modification time, and
/// the mode a regular file gets in the build context's tar.
#[cfg(not(unix))]
fn stat(meta: &std::fs::Metadata) -> Stamp {
    let since_epoch = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .unwrap_or_default();
    let mtime = (since_epoch.as_secs() as i64, since_epoch.subsec_nanos());
    Stamp {
        size: meta.len(),
        mtime,
        ctime: mtime,
        inode: 0,
        mode: 0o644,
    }
}

/// The cache file's content.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Cache {
    #[serde(default)]
    images: BTreeMap<String, CachedImage>,
    #[serde(default)]
    last: BTreeMap<String, LastInputs>,
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
    /// The dependency files, sorted by name.
    pub files: Vec<FileEntry>,
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
        let mut bytes = MAGIC.to_vec();
        bytes.extend(postcard::to_stdvec(&merged).map_err(|e| BuildError::Io(e.to_string()))?);
        crate::atomic_file::write(path, &bytes).map_err(err)
    }

    /// Digests the inputs of the artifact `artifact_id`: `config` is a canonical text of its
    /// settings, `files` its dependency files relative to `context`. The files of its last
    /// inputs whose stat is unchanged are not read.
    pub fn inputs(
        &self,
        artifact_id: &str,
        config: &str,
        context: &Path,
        files: Vec<String>,
    ) -> Result<Inputs, BuildError> {
        let now = std::time::SystemTime::now();
        self.inputs_as_of(artifact_id, config, context, files, now)
    }

    /// [`Cache::inputs`] as a check at `now` makes it: files changed shortly before `now`
    /// are read, and their digests not memoised.
    fn inputs_as_of(
        &self,
        artifact_id: &str,
        config: &str,
        context: &Path,
        files: Vec<String>,
        now: std::time::SystemTime,
    ) -> Result<Inputs, BuildError> {
        let config = hex::encode(Sha256::digest(config.as_bytes()));
        let memo = self.last.get(artifact_id).map_or(&[][..], |l| &l.files[..]);
        let digests = file_digests(memo, context, &files, now)?;
        let mut key = Sha256::new();
        key.update(b"devloop-artifact-v1\n");
        key.update(config.as_bytes());
        key.update(b"\n");
        let mut hex_digest = [0u8; 64];
        for (name, (_, digest, _)) in files.iter().zip(&digests) {
            hex::encode_to_slice(digest, &mut hex_digest).expect("64 hex digits for 32 bytes");
            key.update(name.as_bytes());
            key.update(b"\0");
            key.update(hex_digest);
            key.update(b"\n");
        }
        let mut files: Vec<FileEntry> = files
            .into_iter()
            .zip(digests)
            .map(|(name, (stamp, digest, _))| FileEntry {
                name,
                stamp,
                digest,
            })
            .collect();
        files.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        files.dedup_by(|a, b| a.name == b.name);
        Ok(Inputs {
            key: hex::encode(key.finalize()),
            config,
            files,
        })
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

    /// Remembers `inputs` as the artifact's last, for the next explanation and as the
    /// memo of its files.
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
        for f in &inputs.files {
            match find(&last.files, &f.name) {
                None => reasons.push(format!("{} added", f.name)),
                Some(old) if old.digest != f.digest => reasons.push(format!("{} changed", f.name)),
                _ => {}
            }
        }
        for f in &last.files {
            if find(&inputs.files, &f.name).is_none() {
                reasons.push(format!("{} removed", f.name));
            }
        }
        if reasons.is_empty() {
            reasons.push("the image built from these inputs is gone".to_string());
        }
        reasons
    }
}

/// The entry named `name` of a list sorted by name.
fn find<'a>(sorted: &'a [FileEntry], name: &str) -> Option<&'a FileEntry> {
    search(sorted, name).ok().map(|i| &sorted[i])
}

/// Where `name` is in a list sorted by name (`Err`: where it would go).
fn search(sorted: &[FileEntry], name: &str) -> Result<usize, usize> {
    sorted.binary_search_by(|e| e.name.as_str().cmp(name))
}

/// Finds names in a list sorted by name, asked for in (mostly) the same order: each name
/// is looked for first just after the last one found, then by a binary search.
struct Cursor<'a> {
    sorted: &'a [FileEntry],
    next: usize,
}

impl<'a> Cursor<'a> {
    fn find(&mut self, name: &str) -> Option<&'a FileEntry> {
        if let Some(e) = self.sorted.get(self.next).filter(|e| e.name == name) {
            self.next += 1;
            return Some(e);
        }
        match search(self.sorted, name) {
            Ok(i) => {
                self.next = i + 1;
                Some(&self.sorted[i])
            }
            Err(i) => {
                self.next = i;
                None
            }
        }
    }
}

/// The stamp and digest of each of `files` (relative to `context`), in their order. Each
/// file is stat-ed and read only when its stat differs from its entry in `memo`; both
/// passes are spread over the machine's cores, since a large context is 100k stat calls
/// even when nothing changed. A file changed shortly before `now` gets a stamp that
/// matches nothing (see [`Stamp::settled`]).
fn file_digests(
    memo: &[FileEntry],
    context: &Path,
    files: &[String],
    now: std::time::SystemTime,
) -> Result<Vec<(Stamp, FileDigest, bool)>, BuildError> {
    // Each file's stamp, its digest, and whether the digest came from the memo.
    let mut out = parallel_map(
        files,
        || {
            (
                FolderStat::new(context),
                Cursor {
                    sorted: memo,
                    next: 0,
                },
            )
        },
        |(folder, memo), name| {
            let stamp = folder.stamp(name)?;
            Ok(match memo.find(name).filter(|e| e.stamp == stamp) {
                Some(e) => (stamp, e.digest, true),
                None => (stamp, FileDigest::default(), false),
            })
        },
    )?;
    let unknown: Vec<usize> = (0..files.len()).filter(|&i| !out[i].2).collect();
    // The files to read are stat-ed again: the stamp kept is the one taken before reading,
    // so a file changed while it is read is read again next time.
    let read = parallel_map(
        &unknown,
        || (),
        |(), &i| {
            let path = context.join(&files[i]);
            let meta = std::fs::symlink_metadata(&path).map_err(|e| unreadable(&path, e))?;
            let digest = digest_file(&path, &meta)?;
            Ok((stat(&meta).settled(now), digest, true))
        },
    )?;
    for (i, entry) in unknown.into_iter().zip(read) {
        out[i] = entry;
    }
    Ok(out)
}

/// Stats files named relative to a context from an open handle on their folder, kept while
/// the files come from the same folder (a sorted list keeps a folder's files together): the
/// kernel then resolves one name per file, not every folder of its path again.
#[cfg(target_os = "linux")]
struct FolderStat<'a> {
    context: &'a Path,
    open: Option<(String, rustix::fd::OwnedFd)>,
}

#[cfg(target_os = "linux")]
impl<'a> FolderStat<'a> {
    fn new(context: &'a Path) -> Self {
        FolderStat {
            context,
            open: None,
        }
    }

    fn stamp(&mut self, name: &str) -> Result<Stamp, BuildError> {
        use rustix::fs::{AtFlags, Mode, OFlags, StatxFlags};
        let (folder, file) = name.rsplit_once('/').unwrap_or(("", name));
        if self.open.as_ref().is_none_or(|(open, _)| *open != folder) {
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
            self.open = rustix::fs::open(self.context.join(folder), flags, Mode::empty())
                .ok()
                .map(|fd| (folder.to_string(), fd));
        }
        let stat = self.open.as_ref().and_then(|(_, fd)| {
            rustix::fs::statx(fd, file, AtFlags::SYMLINK_NOFOLLOW, StatxFlags::BASIC_STATS).ok()
        });
        match stat {
            Some(st) => Ok(Stamp {
                size: st.stx_size,
                mtime: (st.stx_mtime.tv_sec, st.stx_mtime.tv_nsec),
                ctime: (st.stx_ctime.tv_sec, st.stx_ctime.tv_nsec),
                inode: st.stx_ino,
                mode: u32::from(st.stx_mode),
            }),
            // A missing file or folder, or a kernel without statx: the path's own stat
            // answers, or says what is wrong with the path.
            None => path_stamp(self.context, name),
        }
    }
}

/// Elsewhere, each file's stat by its path.
#[cfg(not(target_os = "linux"))]
struct FolderStat<'a> {
    context: &'a Path,
}

#[cfg(not(target_os = "linux"))]
impl<'a> FolderStat<'a> {
    fn new(context: &'a Path) -> Self {
        FolderStat { context }
    }

    fn stamp(&mut self, name: &str) -> Result<Stamp, BuildError> {
        path_stamp(self.context, name)
    }
}

/// The stamp of `name` (relative to `context`) from a stat of its whole path.
fn path_stamp(context: &Path, name: &str) -> Result<Stamp, BuildError> {
    let path = context.join(name);
    let meta = std::fs::symlink_metadata(&path).map_err(|e| unreadable(&path, e))?;
    Ok(stat(&meta))
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
    let mode = stat(meta).mode;
    let mut h = Sha256::new();
    h.update(format!("{:o}\n", mode & 0o7777).as_bytes());
    h.update(&content);
    Ok(h.finalize().into())
}

/// `f` over `items` on up to one thread per core (few items stay on this thread), results
/// in the items' order; the first error wins. Each thread calls `f` with a state of its own,
/// made by `init`, for the items it takes in turn.
fn parallel_map<T: Sync, S, R: Send>(
    items: &[T],
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &T) -> Result<R, BuildError> + Sync,
) -> Result<Vec<R>, BuildError> {
    const PER_THREAD_AT_LEAST: usize = 2_048;
    let run = |part: &[T]| {
        let mut state = init();
        part.iter().map(|item| f(&mut state, item)).collect()
    };
    // Few items stay here before the cores are counted: counting them reads the cgroup's
    // files, which costs more than stat-ing a few files.
    let wanted = items.len().div_ceil(PER_THREAD_AT_LEAST);
    if wanted <= 1 {
        return run(items);
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(wanted);
    if threads <= 1 {
        return run(items);
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| run(part)))
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
    use crate::events::Events;

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
            .inputs("app", "cfg", root, vec!["pipe".to_string()])
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
        let first = cache.inputs("app", "cfg", root, files.clone()).unwrap();

        // Rewriting the same content (new mtime) keeps the key.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(root.join("a.c"), "one").unwrap();
        assert_eq!(
            cache.inputs("app", "cfg", root, files.clone()).unwrap().key,
            first.key
        );

        // The config takes part.
        let other_cfg = cache.inputs("app", "cfg2", root, files.clone()).unwrap();
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
        let changed = cache.inputs("app", "cfg", root, files.clone()).unwrap();
        assert_ne!(changed.key, first.key);
        assert_eq!(cache.explain_miss("app", &changed), vec!["b.c changed"]);

        let fewer = cache
            .inputs("app", "cfg", root, files[..1].to_vec())
            .unwrap();
        assert_eq!(cache.explain_miss("app", &fewer), vec!["b.c removed"]);
    }

    #[test]
    fn memo_avoids_rereading_unchanged_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x"), "x").unwrap();
        let files = vec!["x".to_string()];
        let mut cache = Cache::default();
        let mut first = cache
            .inputs_as_of("app", "cfg", dir.path(), files.clone(), later())
            .unwrap();
        // Forge the memo: an unchanged stat must return the memoised digest unread.
        first.files[0].digest = [7; 32];
        cache.remember("app", &first);
        let again = cache
            .inputs_as_of("app", "cfg", dir.path(), files.clone(), later())
            .unwrap();
        assert_eq!(again.files[0].digest, [7; 32]);
        // Another artifact has its own memo.
        let other = cache
            .inputs_as_of("other", "cfg", dir.path(), files.clone(), later())
            .unwrap();
        assert_ne!(other.files[0].digest, [7; 32]);
        // A check right after the file changed does not trust the stamp it takes.
        let mut fresh = cache
            .inputs("fresh", "cfg", dir.path(), files.clone())
            .unwrap();
        fresh.files[0].digest = [7; 32];
        cache.remember("fresh", &fresh);
        let again = cache.inputs("fresh", "cfg", dir.path(), files).unwrap();
        assert_ne!(again.files[0].digest, [7; 32]);
    }

    /// The time of a check made long enough after the test wrote its files that their
    /// stamps are trusted.
    fn later() -> std::time::SystemTime {
        std::time::SystemTime::now() + SETTLE * 2
    }

    /// `path` rewritten with `content` (of the same size as before) and its modification
    /// time put back to what it was: only the change time, inode or a read can tell.
    fn rewrite_keeping_mtime(path: &Path, content: &str) {
        let mtime = std::fs::metadata(path).unwrap().modified().unwrap();
        std::fs::write(path, content).unwrap();
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(mtime).unwrap();
    }

    #[test]
    fn an_edit_of_the_same_size_in_the_same_time_grain_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.js");
        std::fs::write(&path, "one!").unwrap();
        let files = vec!["a.js".to_string()];
        let mut cache = Cache::default();
        let first = cache
            .inputs("app", "cfg", dir.path(), files.clone())
            .unwrap();
        cache.remember("app", &first);
        // At once, same size, same modification time: within the times' grain the stamp
        // can be the same, so the first check must not have trusted it.
        rewrite_keeping_mtime(&path, "two!");
        let second = cache
            .inputs("app", "cfg", dir.path(), files.clone())
            .unwrap();
        assert_ne!(second.key, first.key);
        assert_eq!(cache.explain_miss("app", &second), vec!["a.js changed"]);
    }

    #[test]
    fn an_edit_that_puts_the_mtime_back_changes_the_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.js");
        std::fs::write(&path, "one!").unwrap();
        let files = vec!["a.js".to_string()];
        let mut cache = Cache::default();
        let first = cache
            .inputs_as_of("app", "cfg", dir.path(), files.clone(), later())
            .unwrap();
        cache.remember("app", &first);
        // Past the kernel's clock tick, so that the change time moves.
        std::thread::sleep(std::time::Duration::from_millis(50));
        rewrite_keeping_mtime(&path, "two!");
        let second = cache
            .inputs_as_of("app", "cfg", dir.path(), files, later())
            .unwrap();
        assert_ne!(second.files[0].stamp, first.files[0].stamp);
        assert_ne!(second.key, first.key);
    }

    #[test]
    fn a_file_replaced_by_another_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.js");
        std::fs::write(&path, "one!").unwrap();
        let files = vec!["a.js".to_string()];
        let mut cache = Cache::default();
        let first = cache
            .inputs_as_of("app", "cfg", dir.path(), files.clone(), later())
            .unwrap();
        cache.remember("app", &first);
        // Another file of the same size and times, renamed over it (as editors save).
        let other = dir.path().join("a.js.new");
        std::fs::write(&other, "two!").unwrap();
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::fs::File::options()
            .write(true)
            .open(&other)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        std::fs::rename(&other, &path).unwrap();
        let second = cache
            .inputs_as_of("app", "cfg", dir.path(), files, later())
            .unwrap();
        assert_ne!(second.files[0].stamp.inode, first.files[0].stamp.inode);
        assert_eq!(cache.explain_miss("app", &second), vec!["a.js changed"]);
    }

    #[test]
    fn files_added_or_removed_in_a_folder_count_and_ignored_folders_do_not() {
        use crate::build::{context, dockerignore::DockerIgnore};
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in ["src/a.js", "src/b.js", "node_modules/m/i.js"] {
            std::fs::create_dir_all(root.join(f).parent().unwrap()).unwrap();
            std::fs::write(root.join(f), f).unwrap();
        }
        let ignore = DockerIgnore::parse("node_modules\n", ".dockerignore").unwrap();
        let mut cache = Cache::default();
        let check = |cache: &Cache| {
            let files = context::walk(root, &ignore, &Events::discard()).unwrap();
            cache
                .inputs_as_of("app", "cfg", root, files, later())
                .unwrap()
        };
        let first = check(&cache);
        cache.remember("app", &first);

        std::fs::write(root.join("node_modules/m/i.js"), "edited").unwrap();
        std::fs::write(root.join("node_modules/m/new.js"), "new").unwrap();
        assert_eq!(check(&cache).key, first.key, "ignored edits count");

        std::fs::write(root.join("src/c.js"), "c").unwrap();
        let added = check(&cache);
        assert_eq!(cache.explain_miss("app", &added), vec!["src/c.js added"]);
        std::fs::remove_file(root.join("src/c.js")).unwrap();
        std::fs::remove_file(root.join("src/a.js")).unwrap();
        let removed = check(&cache);
        assert_eq!(
            cache.explain_miss("app", &removed),
            vec!["src/a.js removed"]
        );
    }

    #[test]
    fn a_stamp_is_trusted_only_once_settled() {
        let at = |secs: u64| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        let stamp = Stamp {
            size: 1,
            mtime: (1_000, 5),
            ctime: (1_000, 7),
            inode: 2,
            mode: 0o644,
        };
        assert_eq!(stamp.settled(at(1_000 + SETTLE.as_secs() + 1)), stamp);
        for now in [at(1_000), at(1_001), at(999)] {
            let unsettled = stamp.settled(now);
            assert_eq!(unsettled.mtime, (1_000, UNSETTLED));
            assert_ne!(unsettled, stamp);
        }
        // The later of the two times counts (a chmod or `touch -r` moves only the ctime).
        let touched = Stamp {
            ctime: (2_000, 0),
            ..stamp
        };
        assert_ne!(touched.settled(at(1_000 + SETTLE.as_secs() + 1)), touched);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_stamp_from_the_folder_handle_is_the_paths_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("d/e")).unwrap();
        std::fs::write(root.join("d/e/f"), "x").unwrap();
        std::fs::write(root.join("top"), "y").unwrap();
        std::os::unix::fs::symlink("e/f", root.join("d/link")).unwrap();
        let mut folder = FolderStat::new(root);
        for name in ["d/e/f", "d/link", "top", "d/e/f"] {
            assert_eq!(
                folder.stamp(name).unwrap(),
                path_stamp(root, name).unwrap(),
                "{name}"
            );
        }
        let missing = folder.stamp("d/missing").unwrap_err().to_string();
        assert!(missing.contains("d/missing"), "{missing}");
        let no_folder = folder.stamp("nope/x").unwrap_err().to_string();
        assert!(no_folder.contains("nope/x"), "{no_folder}");
    }

    #[test]
    fn a_large_context_is_digested_in_order_across_threads() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<String> = (0..5_000).map(|i| format!("f{i:05}")).collect();
        for (i, f) in files.iter().enumerate() {
            std::fs::write(dir.path().join(f), i.to_string()).unwrap();
        }
        let mut cache = Cache::default();
        // One time for every check: writing 5,000 files may take longer than SETTLE.
        let at = later();
        let cold = cache
            .inputs_as_of("app", "cfg", dir.path(), files.clone(), at)
            .unwrap();
        for (i, f) in files.iter().enumerate() {
            let meta = std::fs::metadata(dir.path().join(f)).unwrap();
            let mut h = Sha256::new();
            h.update(format!("{:o}\n", stat(&meta).mode & 0o7777).as_bytes());
            h.update(i.to_string().as_bytes());
            let want: FileDigest = h.finalize().into();
            assert_eq!(cold.files[i].name, *f);
            assert_eq!(cold.files[i].digest, want, "{f}");
        }
        // The memoised pass gives the same key; one changed file changes only its digest.
        assert_eq!(
            cache
                .inputs_as_of("app", "cfg", dir.path(), files.clone(), at)
                .unwrap(),
            cold
        );
        cache.remember("app", &cold);
        assert_eq!(
            cache
                .inputs_as_of("app", "cfg", dir.path(), files.clone(), at)
                .unwrap(),
            cold
        );
        std::fs::write(dir.path().join("f04321"), "changed").unwrap();
        let warm = cache
            .inputs_as_of("app", "cfg", dir.path(), files, at)
            .unwrap();
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
            files: Vec::new(),
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
