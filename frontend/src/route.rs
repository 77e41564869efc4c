//! The app's routes and how a URL path maps to them (pure, tested on the host; the browser
//! side, the History API and links, is `navigation.rs`).

/// A page of the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Overview,
    /// A project by its id (md5 of `provider:name`).
    Project(String),
    Subscriptions,
    Alerts,
    Settings,
    NotFound,
}

impl Route {
    /// The route of a URL path (`/projects/abc`, trailing slash or not).
    pub fn parse(path: &str) -> Route {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            [] => Route::Overview,
            ["projects", id] => Route::Project((*id).to_owned()),
            ["subscriptions"] => Route::Subscriptions,
            ["alerts"] => Route::Alerts,
            ["settings"] => Route::Settings,
            _ => Route::NotFound,
        }
    }

    /// Whether a link to `href` is the current page (`exact`) or a parent of it.
    pub fn is_current(current_path: &str, href: &str, exact: bool) -> bool {
        let current = current_path.trim_end_matches('/');
        let href = href.trim_end_matches('/');
        current == href || (!exact && current.starts_with(&format!("{href}/")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_pages() {
        assert_eq!(Route::parse("/"), Route::Overview);
        assert_eq!(Route::parse(""), Route::Overview);
        assert_eq!(
            Route::parse("/projects/0a1b"),
            Route::Project("0a1b".into())
        );
        assert_eq!(Route::parse("/subscriptions/"), Route::Subscriptions);
        assert_eq!(Route::parse("/alerts?days=7"), Route::Alerts);
        assert_eq!(Route::parse("/settings"), Route::Settings);
        assert_eq!(Route::parse("/projects"), Route::NotFound);
        assert_eq!(Route::parse("/nope/deeper"), Route::NotFound);
    }

    #[test]
    fn links_know_when_they_are_current() {
        assert!(Route::is_current("/", "/", true));
        assert!(!Route::is_current("/alerts", "/", true));
        assert!(Route::is_current("/alerts/", "/alerts", false));
        assert!(!Route::is_current("/alertsx", "/alerts", false));
    }
}
