//! Embedding speed: the local embedder against Python onnxruntime on the
//! same texts, the same ONNX graph and the same thread count, side by side.
//!
//! `cargo bench -p forecastlab-embed-local --features enabled --bench embed`
//! embeds the 256 sentences of `benches/corpus.txt` (the project's own README
//! and doc comments, 8–60 words each) in batches of 32, `EMBED_BENCH_REPS`
//! times (default 5) after a warm-up, then runs `embed_onnxruntime.py` with
//! `LOCAL_EMBEDDER_THREADS` threads on the same file and prints both medians
//! in sentences per second and their ratio. Needs `ORT_DYLIB_PATH` and
//! `LOCAL_EMBEDDER_MODEL_DIR` like the tests; set `PYTHON` to choose the
//! interpreter (it needs `onnxruntime`, `numpy` and `tokenizers`; without
//! them the Rust figures are still shown).

use std::{path::Path, process::Command, time::Instant};

use forecastlab_embed_local::{
    settings::{LocalSettings, BATCH_SIZE},
    LocalEmbedder,
};

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn main() {
    let reps = std::env::var("EMBED_BENCH_REPS")
        .ok()
        .and_then(|value| value.parse::<usize>().ok())
        .unwrap_or(5)
        .max(1);
    let corpus_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/corpus.txt");
    let corpus = std::fs::read_to_string(&corpus_path).expect("benches/corpus.txt");
    let texts: Vec<String> = corpus
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(String::from)
        .collect();
    let settings = LocalSettings::from_env().unwrap_or_else(|error| panic!("{error}"));
    let embedder = LocalEmbedder::load(&settings).unwrap_or_else(|error| panic!("{error}"));
    println!(
        "embed: {} sentences, batches of {BATCH_SIZE}, {} ONNX Runtime threads, {reps} repetitions",
        texts.len(),
        settings.threads
    );
    embedder
        .embed_blocking(&texts[..BATCH_SIZE.min(texts.len())])
        .expect("warm-up");
    let mut times = Vec::new();
    for rep in 0..reps {
        let started = Instant::now();
        let vectors = embedder.embed_blocking(&texts).expect("embed");
        let elapsed = started.elapsed().as_secs_f64();
        assert_eq!(vectors.len(), texts.len());
        println!(
            "rust rep {}: {elapsed:.3} s ({:.1} sentences/s)",
            rep + 1,
            texts.len() as f64 / elapsed
        );
        times.push(elapsed);
    }
    let rust = texts.len() as f64 / median(times);

    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/embed_onnxruntime.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg("--model-dir")
        .arg(&settings.model_dir)
        .arg("--texts")
        .arg(&corpus_path)
        .args(["--threads", &settings.threads.to_string()])
        .args(["--batch", &BATCH_SIZE.to_string()])
        .args(["--reps", &reps.to_string()])
        .output();
    let python_rate = match output {
        Ok(output) if output.status.success() => {
            let stdout = String::from_utf8_lossy(&output.stdout);
            print!("{stdout}");
            stdout
                .lines()
                .find_map(|line| line.strip_prefix("MEDIAN_S "))
                .and_then(|value| value.trim().parse::<f64>().ok())
                .map(|seconds| texts.len() as f64 / seconds)
        }
        Ok(output) => {
            eprintln!(
                "the Python peer failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            None
        }
        Err(error) => {
            eprintln!("cannot run {python}: {error}");
            None
        }
    };
    println!("\n| implementation | median sentences/s |\n|---|---|");
    println!("| Rust (ort + tokenizers) | {rust:.1} |");
    if let Some(python_rate) = python_rate {
        println!("| Python onnxruntime | {python_rate:.1} |");
        println!("\nRust / Python: {:.2}×", rust / python_rate);
    }
}
