//! Links the plugin crates in. A plugin's `inventory` registrations are only
//! kept when its crate is referenced, so each enabled plugin has one line
//! here.

// Always-on models.
use forecastlab_model_naive as _;
