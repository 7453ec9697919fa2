//! Opening the input: a plain or gzip-compressed CSV file (by its `.gz`
//! extension or the gzip magic bytes), read through a buffer while the
//! progress bar counts the bytes.

use std::{
    fs::File,
    io::{BufReader, Read, Seek},
    path::Path,
};

use anyhow::Context;
use flate2::read::MultiGzDecoder;
use indicatif::ProgressBar;

/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Read buffer size: large reads keep system calls off the profile.
const BUFFER_BYTES: usize = 1 << 20;

/// The decoded bytes of a (possibly compressed) file.
pub(crate) type Input = Box<dyn Read + Send>;

/// Whether `path` holds gzip data: its name ends in `.gz` or it starts with
/// the gzip magic bytes.
fn is_gzip(path: &Path, file: &mut File) -> std::io::Result<bool> {
    if path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("gz"))
    {
        return Ok(true);
    }
    let mut magic = [0u8; 2];
    let mut read = 0;
    while read < magic.len() {
        match file.read(&mut magic[read..])? {
            0 => break,
            n => read += n,
        }
    }
    file.rewind()?;
    Ok(read == magic.len() && magic == GZIP_MAGIC)
}

/// Opens `path` as a CSV reader with a header line, `delimiter` between
/// fields and `bar` advancing with the bytes read from disk.
pub(crate) fn open(
    path: &Path,
    delimiter: u8,
    bar: &ProgressBar,
) -> anyhow::Result<csv::Reader<Input>> {
    let shown = path.display();
    let mut file = File::open(path).with_context(|| format!("cannot open {shown}"))?;
    let gzip = is_gzip(path, &mut file).with_context(|| format!("cannot read {shown}"))?;
    let counted = BufReader::with_capacity(BUFFER_BYTES, bar.wrap_read(file));
    let input: Input = if gzip {
        Box::new(BufReader::with_capacity(
            BUFFER_BYTES,
            MultiGzDecoder::new(counted),
        ))
    } else {
        Box::new(counted)
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .trim(csv::Trim::Headers)
        .buffer_capacity(BUFFER_BYTES)
        .from_reader(input);
    reader
        .headers()
        .with_context(|| format!("cannot read the header line of {shown}"))?;
    Ok(reader)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::{write::GzEncoder, Compression};

    use super::*;

    fn rows(path: &Path) -> Vec<Vec<String>> {
        let mut reader = open(path, b';', &ProgressBar::hidden()).unwrap();
        assert_eq!(reader.headers().unwrap(), vec!["a", "b"]);
        reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn gzip_is_detected_by_extension_or_magic_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let text = b" a ;b\n1;2\n3;4\n";
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(text).unwrap();
        let gz = gz.finish().unwrap();
        let plain = dir.path().join("plain.csv");
        std::fs::write(&plain, text).unwrap();
        let named = dir.path().join("named.csv.gz");
        std::fs::write(&named, &gz).unwrap();
        let unnamed = dir.path().join("unnamed.csv");
        std::fs::write(&unnamed, &gz).unwrap();
        let expected = vec![vec!["1", "2"], vec!["3", "4"]];
        for path in [&plain, &named, &unnamed] {
            assert_eq!(rows(path), expected, "{}", path.display());
        }
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let error = open(Path::new("no/such.csv"), b',', &ProgressBar::hidden())
            .err()
            .unwrap();
        assert!(format!("{error:#}").contains("no/such.csv"));
    }
}
