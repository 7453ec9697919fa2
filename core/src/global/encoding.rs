//! Series-level columns of a global model: codes and time-safe target
//! encodings over a series, its store, its product and its category.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::frame::SeriesData;

/// Running sums of one group's targets by date.
#[derive(Debug, Default)]
struct Prefix {
    /// Distinct dates, ascending.
    dates: Vec<NaiveDate>,
    /// Sum of the targets of every date up to and including `dates[i]`.
    sum: Vec<f64>,
    /// Number of targets up to and including `dates[i]`.
    count: Vec<f64>,
}

impl Prefix {
    fn new(points: impl Iterator<Item = (NaiveDate, f64)>) -> Self {
        let mut by_date: BTreeMap<NaiveDate, (f64, f64)> = BTreeMap::new();
        for (date, value) in points.filter(|(_, v)| v.is_finite()) {
            let entry = by_date.entry(date).or_default();
            entry.0 += value;
            entry.1 += 1.0;
        }
        let mut out = Self::default();
        let (mut sum, mut count) = (0.0, 0.0);
        for (date, (s, c)) in by_date {
            sum += s;
            count += c;
            out.dates.push(date);
            out.sum.push(sum);
            out.count.push(count);
        }
        out
    }

    /// Mean over the first `k` dates (NaN when `k` is 0).
    fn mean_of_first(&self, k: usize) -> f64 {
        match k.checked_sub(1) {
            Some(i) if self.count[i] > 0.0 => self.sum[i] / self.count[i],
            _ => f64::NAN,
        }
    }

    /// Mean over the dates strictly before `date`.
    fn mean_before(&self, date: NaiveDate) -> f64 {
        self.mean_of_first(self.dates.partition_point(|d| *d < date))
    }

    /// Mean over the dates up to and including `date`.
    fn mean_through(&self, date: NaiveDate) -> f64 {
        self.mean_of_first(self.dates.partition_point(|d| *d <= date))
    }
}

/// Codes and group memberships of one series.
#[derive(Debug, Clone, Copy)]
struct Member {
    store_code: f64,
    product_code: f64,
    category_code: f64,
    /// Group index per kind (series, store, product, category).
    groups: [Option<usize>; 4],
}

/// The series-level columns of every series of a global fit.
#[derive(Debug)]
pub struct Encodings {
    members: Vec<Member>,
    /// Per kind (series, store, product, category), per group.
    groups: [Vec<Prefix>; 4],
}

impl Encodings {
    /// Encodings over `series` (training rows only, with their category).
    pub fn new(series: &[(&SeriesData, Option<&str>)]) -> Self {
        let mut categories: Vec<&str> = series.iter().filter_map(|(_, c)| *c).collect();
        categories.sort_unstable();
        categories.dedup();
        let mut stores: Vec<i64> = series.iter().map(|(d, _)| d.key.store_id).collect();
        stores.sort_unstable();
        stores.dedup();
        let mut products: Vec<i64> = series.iter().map(|(d, _)| d.key.product_id).collect();
        products.sort_unstable();
        products.dedup();

        let members: Vec<Member> = series
            .iter()
            .enumerate()
            .map(|(s, (data, category))| {
                let category = category.and_then(|c| categories.binary_search(&c).ok());
                Member {
                    store_code: data.key.store_id as f64,
                    product_code: data.key.product_id as f64,
                    category_code: category.map_or(f64::NAN, |c| c as f64),
                    groups: [
                        Some(s),
                        stores.binary_search(&data.key.store_id).ok(),
                        products.binary_search(&data.key.product_id).ok(),
                        category,
                    ],
                }
            })
            .collect();
        let sizes = [series.len(), stores.len(), products.len(), categories.len()];
        let groups = std::array::from_fn(|kind| {
            (0..sizes[kind])
                .map(|group| {
                    Prefix::new(
                        series
                            .iter()
                            .zip(&members)
                            .filter(|(_, m)| m.groups[kind] == Some(group))
                            .flat_map(|((data, _), _)| {
                                data.dates.iter().copied().zip(data.target.iter().copied())
                            }),
                    )
                })
                .collect()
        });
        Self { members, groups }
    }

    fn columns(&self, s: usize, scale: f64, mean: impl Fn(&Prefix) -> f64) -> [f64; 8] {
        let member = self.members[s];
        let encode = |kind: usize| {
            member.groups[kind]
                .map(|g| mean(&self.groups[kind][g]))
                .map_or(
                    f64::NAN,
                    |m| if m.is_finite() { m.max(0.0).ln_1p() } else { m },
                )
        };
        [
            member.store_code,
            member.product_code,
            member.category_code,
            scale.ln(),
            encode(0),
            encode(1),
            encode(2),
            encode(3),
        ]
    }

    /// The columns of series `s`'s training row dated `date`: encodings over
    /// the dates strictly before it.
    pub fn row(&self, s: usize, date: NaiveDate, scale: f64) -> [f64; 8] {
        self.columns(s, scale, |prefix| prefix.mean_before(date))
    }

    /// The columns of series `s`'s rows after `origin`: encodings over every
    /// date up to the origin.
    pub fn after(&self, s: usize, origin: NaiveDate, scale: f64) -> [f64; 8] {
        self.columns(s, scale, |prefix| prefix.mean_through(origin))
    }
}
