//! Chart specs: what a chart shows, built on the server from the same data
//! as the tables, embedded in the page as JSON and drawn by `charts.js`
//! (uPlot). The same spec feeds the CSV download, so the file holds exactly
//! the plotted numbers.
//!
//! Colours are the Okabe–Ito palette, which stays distinguishable with the
//! common forms of colour-blindness; lines also differ by dash and marker so
//! no meaning rests on colour alone.

use serde::Serialize;

/// The Okabe–Ito colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(super) enum Colour {
    /// `#000000`.
    #[serde(rename = "#000000")]
    Black,
    /// `#E69F00`.
    #[serde(rename = "#E69F00")]
    Orange,
    /// `#56B4E9`.
    #[serde(rename = "#56B4E9")]
    SkyBlue,
    /// `#009E73`.
    #[serde(rename = "#009E73")]
    BluishGreen,
    /// `#0072B2`.
    #[serde(rename = "#0072B2")]
    Blue,
    /// `#D55E00`.
    #[serde(rename = "#D55E00")]
    Vermillion,
    /// `#CC79A7`.
    #[serde(rename = "#CC79A7")]
    ReddishPurple,
}

/// Colours in the order successive models are drawn.
pub(super) const MODEL_COLOURS: [Colour; 5] = [
    Colour::Vermillion,
    Colour::BluishGreen,
    Colour::ReddishPurple,
    Colour::Orange,
    Colour::SkyBlue,
];

/// How a series is drawn (on a category axis every series also shows a
/// marker at each category).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Style {
    /// A solid line.
    Line,
    /// A dashed line.
    Dashed,
    /// Markers only.
    Points,
    /// A thick bar-like line (timelines).
    Thick,
    /// Not drawn as a line: the edge of a band.
    BandEdge,
}

/// Which y axis a series belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Axis {
    /// The left axis.
    Left,
    /// The right axis.
    Right,
}

/// What the x values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum XKind {
    /// ISO dates.
    Date,
    /// Category labels, evenly spaced.
    Category,
}

/// One plotted series.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Series {
    /// Legend label and CSV column name.
    pub(super) label: String,
    /// One value per x (missing = gap).
    pub(super) values: Vec<Option<f64>>,
    /// Drawing style.
    pub(super) style: Style,
    /// Axis.
    pub(super) axis: Axis,
    /// Colour.
    pub(super) colour: Colour,
}

impl Series {
    /// A series on the left axis.
    pub(super) fn new(
        label: impl Into<String>,
        values: Vec<Option<f64>>,
        style: Style,
        colour: Colour,
    ) -> Self {
        Self {
            label: label.into(),
            values,
            style,
            axis: Axis::Left,
            colour,
        }
    }

    /// Moves the series to the right axis.
    pub(super) fn on_right(mut self) -> Self {
        self.axis = Axis::Right;
        self
    }
}

/// A shaded range of x values (holidays, promotions).
#[derive(Debug, Clone, Serialize)]
pub(super) struct Span {
    /// First x (inclusive).
    pub(super) start: String,
    /// Last x (inclusive).
    pub(super) end: String,
    /// What it marks (legend and tooltip).
    pub(super) label: String,
    /// Colour.
    pub(super) colour: Colour,
}

/// A filled band between two series (a prediction interval).
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct Band {
    /// Index of the upper series.
    pub(super) upper: usize,
    /// Index of the lower series.
    pub(super) lower: usize,
}

/// A complete chart.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Chart {
    /// Element id, unique on the page (also the download file name).
    pub(super) id: String,
    /// Caption.
    pub(super) title: String,
    /// What the x values are.
    pub(super) x_kind: XKind,
    /// The x values.
    pub(super) x: Vec<String>,
    /// Left axis label.
    pub(super) y_label: String,
    /// Right axis label, when a series uses it.
    pub(super) y2_label: Option<String>,
    /// The series.
    pub(super) series: Vec<Series>,
    /// Filled bands between series.
    pub(super) bands: Vec<Band>,
    /// Shaded x ranges.
    pub(super) spans: Vec<Span>,
}

impl Chart {
    /// An empty chart over dates.
    pub(super) fn dates(id: &str, title: impl Into<String>, y_label: &str) -> Self {
        Self {
            id: id.to_owned(),
            title: title.into(),
            x_kind: XKind::Date,
            x: Vec::new(),
            y_label: y_label.to_owned(),
            y2_label: None,
            series: Vec::new(),
            bands: Vec::new(),
            spans: Vec::new(),
        }
    }

    /// An empty chart over categories.
    pub(super) fn categories(id: &str, title: impl Into<String>, y_label: &str) -> Self {
        Self {
            x_kind: XKind::Category,
            ..Self::dates(id, title, y_label)
        }
    }

    /// Adds a series; returns its index.
    pub(super) fn push(&mut self, series: Series) -> usize {
        self.series.push(series);
        self.series.len() - 1
    }

    /// A one-sentence description for screen readers.
    pub(super) fn summary(&self) -> String {
        let labels: Vec<&str> = self.series.iter().map(|s| s.label.as_str()).collect();
        match (self.x.first(), self.x.last()) {
            (Some(first), Some(last)) => format!(
                "{}: {} from {first} to {last}. The data is available as CSV.",
                self.title,
                labels.join(", ")
            ),
            _ => format!("{}: no data.", self.title),
        }
    }

    /// The spec as JSON that is safe inside a `<script>` element.
    pub(super) fn json(&self) -> String {
        let text = serde_json::to_string(self).unwrap_or_else(|_| "null".to_owned());
        script_safe(&text)
    }
}

/// Escapes `<`, `>` and `&` in JSON text as `\u003c`, `\u003e`, `\u0026`,
/// so the text cannot close a `<script>` element (they only occur inside
/// JSON strings, where the escapes mean the same characters).
pub(super) fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_json_cannot_close_the_script_element() {
        let mut chart = Chart::dates("c", "</script><b>&", "units");
        chart.x = vec!["2024-01-01".into()];
        chart.push(Series::new("a", vec![Some(1.0)], Style::Line, Colour::Blue));
        let json = chart.json();
        assert!(!json.contains("</script>"));
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["title"], "</script><b>&");
        assert_eq!(back["series"][0]["colour"], "#0072B2");
        assert_eq!(back["series"][0]["axis"], "left");
        assert_eq!(back["x_kind"], "date");
    }

    #[test]
    fn summary_names_the_series_and_range() {
        let mut chart = Chart::dates("c", "Sales", "units");
        chart.x = vec!["2024-01-01".into(), "2024-01-31".into()];
        chart.push(Series::new(
            "units",
            vec![Some(1.0), None],
            Style::Line,
            Colour::Blue,
        ));
        assert_eq!(
            chart.summary(),
            "Sales: units from 2024-01-01 to 2024-01-31. The data is available as CSV."
        );
        assert_eq!(Chart::dates("d", "Empty", "u").summary(), "Empty: no data.");
    }
}
