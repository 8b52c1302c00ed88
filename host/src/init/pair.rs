//! Pairing the images the manifests use with the Dockerfiles that build them.
//!
//! Without `--force` only certain pairs are made: a project with one Dockerfile and one image
//! (Skaffold's rule), and an image whose name equals exactly one Dockerfile's name (its
//! folder, or `web` in `Dockerfile.web`/`web.Dockerfile`) while that Dockerfile's name equals
//! no other image. With `--force` the rest are paired one-to-one by name similarity (a name
//! containing the other, or a small edit distance); a tie is an error naming the
//! candidates; and in a project with a single image, that image goes to the first Dockerfile
//! (nearest the project folder), as Skaffold does. What stays unpaired is reported back.

use super::InitError;
use super::builders::Builder;
use super::walk::file_name_of;
use crate::image::Reference;

/// An image and the Dockerfile that builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub image: String,
    pub builder: Builder,
}

/// The outcome of pairing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairing {
    pub pairs: Vec<Pair>,
    /// Images no Dockerfile was paired with (in manifest order).
    pub unresolved_images: Vec<String>,
    /// Dockerfiles paired with no image (in walk order).
    pub unused: Vec<Builder>,
    /// Pairs `--force` made by guessing, as `image ← Dockerfile (why)` lines for the user.
    pub guessed: Vec<String>,
}

/// How alike two names must be for `--force` to pair them.
const THRESHOLD: f64 = 0.7;

/// Pairs `images` (tags already stripped) with the Dockerfiles among `builders`.
/// `project` is the project's name, the name of a Dockerfile at the top of the project.
pub fn pair(
    builders: &[Builder],
    images: &[String],
    project: &str,
    force: bool,
) -> Result<Pairing, InitError> {
    let mut out = Pairing::default();
    let mut images: Vec<String> = images.to_vec();
    let mut builders: Vec<Builder> = builders.to_vec();
    if builders.len() == 1 && images.len() == 1 {
        out.pairs.push(Pair {
            image: images.remove(0),
            builder: builders.remove(0),
        });
        return Ok(out);
    }
    let total_images = images.len();

    // Exact names: repeat, since each pair made can leave another name unambiguous.
    loop {
        let mut made = None;
        'images: for (i, image) in images.iter().enumerate() {
            let key = image_key(image);
            let matching: Vec<usize> = (0..builders.len())
                .filter(|&b| builder_keys(&builders[b], project).contains(&key))
                .collect();
            if let [b] = matching[..] {
                let keys = builder_keys(&builders[b], project);
                let rivals = images
                    .iter()
                    .filter(|other| keys.contains(&image_key(other)))
                    .count();
                if rivals == 1 {
                    made = Some((i, b));
                    break 'images;
                }
            }
        }
        let Some((i, b)) = made else { break };
        out.pairs.push(Pair {
            image: images.remove(i),
            builder: builders.remove(b),
        });
    }

    if force {
        force_by_similarity(&mut images, &mut builders, project, &mut out)?;
        if total_images == 1 && images.len() == 1 && !builders.is_empty() {
            let builder = builders.remove(0);
            out.guessed.push(format!(
                "{} ← {} (the only image; the first of the Dockerfiles)",
                images[0], builder.path
            ));
            out.pairs.push(Pair {
                image: images.remove(0),
                builder,
            });
        }
    }
    out.unresolved_images = images;
    out.unused = builders;
    Ok(out)
}

/// `--force`: pairs the most alike names first; an equally good second choice is a tie.
fn force_by_similarity(
    images: &mut Vec<String>,
    builders: &mut Vec<Builder>,
    project: &str,
    out: &mut Pairing,
) -> Result<(), InitError> {
    let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
    for (i, image) in images.iter().enumerate() {
        let key = image_key(image);
        for (b, builder) in builders.iter().enumerate() {
            let score = builder_keys(builder, project)
                .iter()
                .map(|k| similarity(&key, k))
                .fold(0.0, f64::max);
            if score >= THRESHOLD {
                candidates.push((score, i, b));
            }
        }
    }
    candidates.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let mut image_taken = vec![false; images.len()];
    let mut builder_taken = vec![false; builders.len()];
    let mut chosen = Vec::new();
    for &(score, i, b) in &candidates {
        if image_taken[i] || builder_taken[b] {
            continue;
        }
        let tied_builders: Vec<usize> = candidates
            .iter()
            .filter(|c| c.0 == score && c.1 == i && !builder_taken[c.2])
            .map(|c| c.2)
            .collect();
        let tied_images: Vec<usize> = candidates
            .iter()
            .filter(|c| c.0 == score && c.2 == b && !image_taken[c.1])
            .map(|c| c.1)
            .collect();
        if tied_builders.len() > 1 || tied_images.len() > 1 {
            return Err(InitError::ForceTie {
                images: tied_images.iter().map(|&x| images[x].clone()).collect(),
                dockerfiles: tied_builders
                    .iter()
                    .map(|&x| builders[x].path.clone())
                    .collect(),
            });
        }
        image_taken[i] = true;
        builder_taken[b] = true;
        chosen.push((i, b));
    }
    for &(i, b) in &chosen {
        out.guessed.push(format!(
            "{} ← {} (similar names)",
            images[i], builders[b].path
        ));
        out.pairs.push(Pair {
            image: images[i].clone(),
            builder: builders[b].clone(),
        });
    }
    let mut i = 0;
    images.retain(|_| {
        i += 1;
        !image_taken[i - 1]
    });
    let mut b = 0;
    builders.retain(|_| {
        b += 1;
        !builder_taken[b - 1]
    });
    Ok(())
}

/// An image's name for matching: its last path component, letters and digits only.
pub fn image_key(image: &str) -> String {
    let name = Reference::parse(image)
        .map(|r| r.name())
        .unwrap_or_else(|_| {
            // Names the grammar rejects (uppercase, say) still match by their last component.
            let last = file_name_of(image);
            let end = last.find([':', '@']).unwrap_or(last.len());
            last[..end].to_string()
        });
    normalize(&name)
}

/// A Dockerfile's names for matching: its folder's name, the `web` of `Dockerfile.web` or
/// `web.Dockerfile`, and — at the top of the project — the project's name.
pub fn builder_keys(builder: &Builder, project: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let context = builder.context();
    if context != "." {
        keys.push(normalize(file_name_of(context)));
    }
    let file = file_name_of(&builder.path);
    let lower = file.to_ascii_lowercase();
    let stem = lower
        .strip_prefix("dockerfile")
        .or_else(|| lower.strip_suffix("dockerfile"))
        .map(|s| s.trim_matches(['.', '-', '_']))
        .filter(|s| !s.is_empty());
    if let Some(stem) = stem {
        keys.push(normalize(stem));
    }
    if context == "." && keys.is_empty() {
        keys.push(normalize(project));
    }
    keys.retain(|k| !k.is_empty());
    keys
}

fn normalize(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// 1 for equal names, 0.9 when one contains the other (both at least 3 long), else the
/// normalized edit distance.
fn similarity(a: &str, b: &str) -> f64 {
    if a == b {
        1.0
    } else if a.len() >= 3 && b.len() >= 3 && (a.contains(b) || b.contains(a)) {
        0.9
    } else {
        strsim::normalized_levenshtein(a, b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docker(paths: &[&str]) -> Vec<Builder> {
        paths.iter().map(|p| Builder::docker(*p)).collect()
    }

    fn images(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn pairs(p: &Pairing) -> Vec<(String, String)> {
        p.pairs
            .iter()
            .map(|p| (p.image.clone(), p.builder.path.clone()))
            .collect()
    }

    #[test]
    fn one_dockerfile_one_image_always_pair() {
        let p = pair(
            &docker(&["Dockerfile"]),
            &images(&["skaffold-example"]),
            "getting-started",
            false,
        )
        .unwrap();
        assert_eq!(
            pairs(&p),
            vec![("skaffold-example".into(), "Dockerfile".into())]
        );
        assert!(p.unresolved_images.is_empty() && p.unused.is_empty());
    }

    #[test]
    fn exact_names_pair_without_force_and_leftovers_are_reported() {
        let p = pair(
            &docker(&[
                "leeroy-app/Dockerfile",
                "leeroy-web/Dockerfile",
                "tools/Dockerfile.lint",
            ]),
            &images(&[
                "gcr.io/k8s-skaffold/leeroy-web",
                "redis",
                "gcr.io/k8s-skaffold/leeroy-app",
            ]),
            "microservices",
            false,
        )
        .unwrap();
        assert_eq!(
            pairs(&p),
            vec![
                (
                    "gcr.io/k8s-skaffold/leeroy-web".into(),
                    "leeroy-web/Dockerfile".into()
                ),
                (
                    "gcr.io/k8s-skaffold/leeroy-app".into(),
                    "leeroy-app/Dockerfile".into()
                ),
            ]
        );
        assert_eq!(p.unresolved_images, vec!["redis".to_string()]);
        assert_eq!(p.unused, docker(&["tools/Dockerfile.lint"]));
        assert!(p.guessed.is_empty());
    }

    #[test]
    fn a_name_two_dockerfiles_share_is_not_paired_without_force() {
        let p = pair(
            &docker(&["web/Dockerfile", "web/Dockerfile.dev"]),
            &images(&["web", "api"]),
            "proj",
            false,
        )
        .unwrap();
        assert!(p.pairs.is_empty());
        assert_eq!(p.unresolved_images.len(), 2);
        assert_eq!(p.unused.len(), 2);
    }

    #[test]
    fn force_pairs_similar_names_and_fails_on_ties() {
        let p = pair(
            &docker(&[
                "services/frontend/Dockerfile",
                "services/backend-api/Dockerfile",
            ]),
            &images(&["registry.local/shop-frontend:v1", "backendapi", "postgres"]),
            "shop",
            true,
        )
        .unwrap();
        assert_eq!(
            pairs(&p),
            vec![
                (
                    "backendapi".into(),
                    "services/backend-api/Dockerfile".into()
                ),
                (
                    "registry.local/shop-frontend:v1".into(),
                    "services/frontend/Dockerfile".into()
                ),
            ]
        );
        assert_eq!(p.unresolved_images, vec!["postgres".to_string()]);
        assert!(p.unused.is_empty());
        assert_eq!(p.guessed.len(), 1, "{:?}", p.guessed);

        let err = pair(
            &docker(&["a/web/Dockerfile", "b/web/Dockerfile"]),
            &images(&["web", "api"]),
            "proj",
            true,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("a/web/Dockerfile") && err.contains("b/web/Dockerfile"),
            "{err}"
        );
        assert!(err.contains("--artifact"), "{err}");
    }

    #[test]
    fn force_with_a_single_image_takes_the_first_dockerfile() {
        let builders = docker(&["Dockerfile", "Dockerfile.dev"]);
        let without = pair(&builders, &images(&["skaffold-example"]), "hello", false).unwrap();
        assert!(without.pairs.is_empty());
        let with = pair(&builders, &images(&["skaffold-example"]), "hello", true).unwrap();
        assert_eq!(
            pairs(&with),
            vec![("skaffold-example".into(), "Dockerfile".into())]
        );
        assert_eq!(with.unused, docker(&["Dockerfile.dev"]));
        assert_eq!(with.guessed.len(), 1);
    }

    #[test]
    fn dissimilar_leftovers_stay_unpaired_under_force() {
        let p = pair(
            &docker(&["worker/Dockerfile", "web/Dockerfile"]),
            &images(&["web", "redis"]),
            "proj",
            true,
        )
        .unwrap();
        assert_eq!(pairs(&p), vec![("web".into(), "web/Dockerfile".into())]);
        assert_eq!(p.unresolved_images, vec!["redis".to_string()]);
        assert_eq!(p.unused, docker(&["worker/Dockerfile"]));
    }

    #[test]
    fn keys_of_dockerfiles() {
        assert_eq!(
            builder_keys(&Builder::docker("Dockerfile"), "My_Proj"),
            vec!["myproj"]
        );
        assert_eq!(
            builder_keys(&Builder::docker("Dockerfile.web"), "p"),
            vec!["web"]
        );
        assert_eq!(
            builder_keys(&Builder::docker("svc/api.Dockerfile"), "p"),
            vec!["svc", "api"]
        );
        assert_eq!(image_key("gcr.io/p/Leeroy_App:v1"), "leeroyapp");
    }
}
