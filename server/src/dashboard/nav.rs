//! The navigation bar: one entry per page, in order. A page that is not
//! listed here does not exist.

/// One entry of the navigation bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NavItem {
    /// Path of the page.
    pub(super) path: &'static str,
    /// Link text.
    pub(super) label: &'static str,
}

impl NavItem {
    /// The entry linking `path` as `label`.
    const fn new(path: &'static str, label: &'static str) -> Self {
        Self { path, label }
    }
}

/// The overview page.
pub(super) const OVERVIEW: NavItem = NavItem::new("/", "Overview");

/// The series page.
pub(super) const SERIES: NavItem = NavItem::new("/ui/series", "Series explorer");

/// The forecast page.
pub(super) const FORECAST: NavItem = NavItem::new("/ui/forecast", "Forecast");

/// The backtest page.
pub(super) const BACKTEST: NavItem = NavItem::new("/ui/backtest", "Backtest");

/// The registry page.
pub(super) const REGISTRY: NavItem = NavItem::new("/ui/registry", "Registry");

/// The jobs page.
pub(super) const JOBS: NavItem = NavItem::new("/ui/jobs", "Jobs");

/// The scenarios page.
pub(super) const SCENARIOS: NavItem = NavItem::new("/ui/scenarios", "Scenarios");

/// The knowledge page.
pub(super) const KNOWLEDGE: NavItem = NavItem::new("/ui/knowledge", "Knowledge & agents");

/// The showcase page.
pub(super) const SHOWCASE: NavItem = NavItem::new("/ui/showcase", "Showcase");

/// Every entry, in the bar's order.
pub(super) const ALL: &[NavItem] = &[
    OVERVIEW, SERIES, FORECAST, BACKTEST, REGISTRY, JOBS, SCENARIOS, KNOWLEDGE, SHOWCASE,
];
