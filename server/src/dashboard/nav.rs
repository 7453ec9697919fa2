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

/// The overview page.
pub(super) const OVERVIEW: NavItem = NavItem {
    path: "/",
    label: "Overview",
};

/// The series page.
pub(super) const SERIES: NavItem = NavItem {
    path: "/ui/series",
    label: "Series explorer",
};

/// The forecast page.
pub(super) const FORECAST: NavItem = NavItem {
    path: "/ui/forecast",
    label: "Forecast",
};

/// The backtest page.
pub(super) const BACKTEST: NavItem = NavItem {
    path: "/ui/backtest",
    label: "Backtest",
};

/// The registry page.
pub(super) const REGISTRY: NavItem = NavItem {
    path: "/ui/registry",
    label: "Registry",
};

/// The jobs page.
pub(super) const JOBS: NavItem = NavItem {
    path: "/ui/jobs",
    label: "Jobs",
};

/// The scenarios page.
pub(super) const SCENARIOS: NavItem = NavItem {
    path: "/ui/scenarios",
    label: "Scenarios",
};

/// The knowledge page.
pub(super) const KNOWLEDGE: NavItem = NavItem {
    path: "/ui/knowledge",
    label: "Knowledge & agents",
};

/// The showcase page.
pub(super) const SHOWCASE: NavItem = NavItem {
    path: "/ui/showcase",
    label: "Showcase",
};

/// Every entry, in the bar's order.
pub(super) const ALL: &[NavItem] = &[
    OVERVIEW, SERIES, FORECAST, BACKTEST, REGISTRY, JOBS, SCENARIOS, KNOWLEDGE, SHOWCASE,
];
