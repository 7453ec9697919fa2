//! What an import reports: the rejected rows (a CSV file written on the
//! first rejection) and the summary line.

use std::{
    fs::File,
    io::BufWriter,
    path::{Path, PathBuf},
};

use anyhow::Context;

use super::ImportTable;

/// One rejected row (a row may have several, one per field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    /// The 1-based line of the file where the row starts.
    pub(crate) line: u64,
    /// The field at fault; empty when the row as a whole is malformed.
    pub(crate) field: String,
    /// What is wrong.
    pub(crate) message: String,
}

/// The error report: `line,field,message`, created on the first rejection.
#[derive(Debug)]
pub(crate) struct ErrorReport {
    path: PathBuf,
    writer: Option<csv::Writer<BufWriter<File>>>,
}

impl ErrorReport {
    /// A report to be written at `path` if any row is rejected.
    pub(crate) fn new(path: PathBuf) -> Self {
        Self { path, writer: None }
    }

    /// Where the report goes.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `rejections`.
    pub(crate) fn write(&mut self, rejections: &[Rejection]) -> anyhow::Result<()> {
        if rejections.is_empty() {
            return Ok(());
        }
        if self.writer.is_none() {
            let file = File::create(&self.path).with_context(|| {
                format!("cannot create the error report {}", self.path.display())
            })?;
            let mut writer = csv::Writer::from_writer(BufWriter::new(file));
            writer.write_record(["line", "field", "message"])?;
            self.writer = Some(writer);
        }
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        for rejection in rejections {
            writer.write_record([
                rejection.line.to_string().as_str(),
                &rejection.field,
                &rejection.message,
            ])?;
        }
        Ok(())
    }

    /// Flushes the report to disk.
    pub(crate) fn finish(&mut self) -> anyhow::Result<()> {
        if let Some(writer) = &mut self.writer {
            writer
                .flush()
                .with_context(|| format!("cannot write {}", self.path.display()))?;
        }
        Ok(())
    }
}

/// Counts of a whole import.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Totals {
    /// Data rows in the file.
    pub(crate) read: u64,
    /// Rows inserted or updated.
    pub(crate) processed: u64,
    /// Rows the table grew by (the rest of `processed` were updates).
    pub(crate) inserted: u64,
    /// Rows not written (each listed in the error report).
    pub(crate) rejected: u64,
    /// Rows merged into a later row of the same batch with the same key.
    pub(crate) merged: u64,
    /// Calendar days added because a row needed them.
    pub(crate) days_created: u64,
    /// Wall-clock time of the import.
    pub(crate) seconds: f64,
}

impl Totals {
    /// Rows that replaced an existing row.
    pub(crate) fn updated(&self) -> u64 {
        self.processed.saturating_sub(self.inserted)
    }

    /// The summary line.
    pub(crate) fn summary(&self, table: ImportTable) -> String {
        let rate = if self.seconds > 0.0 {
            self.read as f64 / self.seconds
        } else {
            0.0
        };
        format!(
            "imported {}: {} rows read, {} inserted, {} updated, {} rejected, \
             {} merged duplicates, {} calendar days created in {:.2} s ({:.0} rows/s)",
            table.name(),
            self.read,
            self.inserted,
            self.updated(),
            self.rejected,
            self.merged,
            self.days_created,
            self.seconds,
            rate
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_is_created_on_the_first_rejection_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("errors.csv");
        let mut report = ErrorReport::new(path.clone());
        report.write(&[]).unwrap();
        report.finish().unwrap();
        assert!(!path.exists());
        let rejection = Rejection {
            line: 3,
            field: "sku".into(),
            message: "Unknown product SKU 'X, Y'".into(),
        };
        report.write(&[rejection]).unwrap();
        report.finish().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "line,field,message\n3,sku,\"Unknown product SKU 'X, Y'\"\n"
        );
    }

    #[test]
    fn updates_are_the_processed_rows_that_were_not_inserted() {
        let totals = Totals {
            read: 10,
            processed: 8,
            inserted: 5,
            rejected: 2,
            seconds: 2.0,
            ..Totals::default()
        };
        assert_eq!(totals.updated(), 3);
        let line = totals.summary(ImportTable::Sales);
        assert!(line.starts_with("imported sales: 10 rows read, 5 inserted, 3 updated, 2 rejected"));
        assert!(line.ends_with("in 2.00 s (5 rows/s)"));
    }
}
