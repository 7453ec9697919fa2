//! Typed reads of environment-style settings, shared by [`crate::config`]
//! and the slices that own a group of settings (RAG, agents).

use std::str::FromStr;

use anyhow::bail;

/// Typed reads of environment-style settings through a lookup function.
pub(crate) struct Env<'a>(pub(crate) &'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    pub(crate) fn string(&self, name: &str, default: &str) -> String {
        (self.0)(name)
            .filter(|value| !value.is_empty())
            .unwrap_or_else(|| default.to_owned())
    }

    pub(crate) fn parse<T: FromStr>(&self, name: &str, default: T) -> anyhow::Result<T>
    where
        T::Err: std::fmt::Display,
    {
        match (self.0)(name).filter(|value| !value.is_empty()) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|error| anyhow::anyhow!("{name}={raw:?} is invalid: {error}")),
        }
    }

    pub(crate) fn optional<T: FromStr>(&self, name: &str) -> anyhow::Result<Option<T>>
    where
        T::Err: std::fmt::Display,
    {
        (self.0)(name)
            .filter(|value| !value.trim().is_empty())
            .map(|raw| {
                raw.trim()
                    .parse()
                    .map_err(|error| anyhow::anyhow!("{name}={raw:?} is invalid: {error}"))
            })
            .transpose()
    }

    pub(crate) fn flag(&self, name: &str, default: bool) -> anyhow::Result<bool> {
        match (self.0)(name).map(|value| value.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(value) if value.is_empty() => Ok(default),
            Some(value) => match value.as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                _ => bail!("{name}={value:?} is not a boolean (true/false)"),
            },
        }
    }
}
