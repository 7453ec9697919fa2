//! What every page shares: the navigation, the layout data of `base.html`
//! and rendering a template into a response.

use askama::Template;
use axum::response::Html;

use super::{
    assets,
    nav::{self, NavItem},
};
use crate::problem::Problem;

/// What `base.html` needs: which page is current, the navigation and the
/// URLs of the static files.
#[derive(Debug, Clone, Copy)]
pub(super) struct Layout {
    /// The page being rendered.
    pub(super) current: NavItem,
}

impl Layout {
    /// The layout of `page`.
    pub(super) fn of(page: NavItem) -> Self {
        Self { current: page }
    }

    /// The navigation entries.
    pub(super) fn nav(&self) -> &'static [NavItem] {
        nav::ALL
    }

    /// Whether `item` is the current page.
    pub(super) fn is_current(&self, item: &NavItem) -> bool {
        *item == self.current
    }

    /// The cache-busting URL of a static file.
    pub(super) fn asset(&self, name: &str) -> String {
        assets::url(name)
    }
}

/// Renders `template` as an HTML response.
pub(super) fn render(template: &impl Template) -> Result<Html<String>, Problem> {
    template.render().map(Html).map_err(Problem::internal)
}

/// A number with at most `digits` decimals, or a dash when absent.
pub(super) fn num(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.digits$}"))
}

/// Paging of a list fragment: its own URL (what polling reloads) and the
/// URLs of the neighbouring pages, with the same filters.
#[derive(Debug, Clone)]
pub(super) struct Pager {
    /// Current page (1-based).
    pub(super) page: i64,
    /// Number of pages (at least 1).
    pub(super) pages: i64,
    /// Matching rows.
    pub(super) total: i64,
    /// URL of this page.
    pub(super) self_url: String,
    /// URL of the previous page.
    pub(super) previous_url: Option<String>,
    /// URL of the next page.
    pub(super) next_url: Option<String>,
}

impl Pager {
    /// Paging of `path` with the query `filters` (absent values left out).
    pub(super) fn new(
        path: &str,
        filters: &[(&str, Option<String>)],
        page: i64,
        page_size: i64,
        total: i64,
    ) -> Self {
        let url = |page: i64| {
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.append_pair("page", &page.to_string());
            query.append_pair("page_size", &page_size.to_string());
            for (key, value) in filters {
                if let Some(value) = value {
                    query.append_pair(key, value);
                }
            }
            format!("{path}?{}", query.finish())
        };
        let pages = ((total + page_size - 1) / page_size.max(1)).max(1);
        Self {
            page,
            pages,
            total,
            self_url: url(page),
            previous_url: (page > 1).then(|| url(page - 1)),
            next_url: (page < pages).then(|| url(page + 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pager_keeps_filters_and_links_neighbours() {
        let pager = Pager::new(
            "/ui/x",
            &[("status", Some("failed".into())), ("job_type", None)],
            2,
            20,
            45,
        );
        assert_eq!(pager.pages, 3);
        assert_eq!(pager.self_url, "/ui/x?page=2&page_size=20&status=failed");
        assert_eq!(
            pager.previous_url.as_deref(),
            Some("/ui/x?page=1&page_size=20&status=failed")
        );
        assert_eq!(
            pager.next_url.as_deref(),
            Some("/ui/x?page=3&page_size=20&status=failed")
        );
        let single = Pager::new("/ui/x", &[], 1, 20, 0);
        assert_eq!(
            (single.pages, single.previous_url, single.next_url),
            (1, None, None)
        );
    }

    #[test]
    fn navigation_has_one_entry_per_page() {
        let mut paths: Vec<&str> = nav::ALL.iter().map(|item| item.path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), nav::ALL.len());
        assert_eq!(nav::ALL[0].path, "/");
    }
}
