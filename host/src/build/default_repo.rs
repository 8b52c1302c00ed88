//! `--default-repo`: Skaffold's rule for putting an image under the user's registry.

/// `image` moved under `repo`: kept when it already starts with `repo`; otherwise `repo/`
/// plus the image name with the characters a repository path cannot hold replaced by `_`.
pub fn substitute(repo: &str, image: &str) -> Result<String, String> {
    let repo = repo.trim_end_matches('/');
    if repo.is_empty() {
        return Ok(image.to_string());
    }
    if image.starts_with(&format!("{repo}/")) || image == repo {
        return Ok(image.to_string());
    }
    let escaped: String = image
        .chars()
        .map(|c| if matches!(c, '.' | '/' | ':') { '_' } else { c })
        .collect();
    if escaped.is_empty() {
        return Err("the image name is empty".into());
    }
    Ok(format!("{repo}/{escaped}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes() {
        assert_eq!(
            substitute("127.0.0.1:5000", "app").unwrap(),
            "127.0.0.1:5000/app"
        );
        assert_eq!(
            substitute("reg.io/team", "gcr.io/k8s-skaffold/example").unwrap(),
            "reg.io/team/gcr_io_k8s-skaffold_example"
        );
        assert_eq!(
            substitute("reg.io/team", "reg.io/team/app").unwrap(),
            "reg.io/team/app"
        );
    }
}
