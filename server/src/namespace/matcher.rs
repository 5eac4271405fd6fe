//! Which paths a dynamic namespace serves.

/// Matches the paths of a dynamic namespace.
pub(crate) enum Matcher {
    /// Segments; `{name}` matches any one non-empty segment.
    Pattern(Vec<String>),
    /// The application decides.
    Predicate(Box<dyn Fn(&str) -> bool + Send + Sync>),
}

impl Matcher {
    /// A pattern such as `/rooms/{id}` (its path already normalized).
    pub(crate) fn pattern(path: &str) -> Self {
        Matcher::Pattern(path.split('/').map(str::to_owned).collect())
    }

    pub(crate) fn matches(&self, path: &str) -> bool {
        match self {
            Matcher::Pattern(segments) => {
                let mut parts = path.split('/');
                segments.iter().all(|seg| match parts.next() {
                    Some(part) if seg.starts_with('{') && seg.ends_with('}') => !part.is_empty(),
                    Some(part) => seg == part,
                    None => false,
                }) && parts.next().is_none()
            }
            Matcher::Predicate(f) => f(path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Matcher;

    #[test]
    fn patterns_match_whole_segments() {
        let m = Matcher::pattern("/rooms/{id}");
        assert!(m.matches("/rooms/42"));
        assert!(!m.matches("/rooms/"));
        assert!(!m.matches("/rooms"));
        assert!(!m.matches("/rooms/42/x"));
        assert!(!m.matches("/other/42"));
    }
}
