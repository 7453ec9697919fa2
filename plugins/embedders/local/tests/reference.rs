//! The local embedder against the stored reference (`reference.json`,
//! written by `scripts/make_reference.py`): identical token ids to the
//! Python tokenizer and cosine ≥ 0.999 to an independent numpy forward pass,
//! on 20 fixed sentences. Needs `ORT_DYLIB_PATH` and
//! `LOCAL_EMBEDDER_MODEL_DIR` (see the README).

use forecastlab_core::ai::{embedder, ProviderSettings};
use forecastlab_embed_local::{
    settings::{LocalSettings, DIMENSION, MAX_LENGTH, MODEL_NAME},
    LocalEmbedder,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    model: String,
    max_length: usize,
    sentences: Vec<Sentence>,
}

#[derive(Deserialize)]
struct Sentence {
    text: String,
    ids: Vec<u32>,
    vector: Vec<f32>,
}

fn reference() -> Reference {
    serde_json::from_str(include_str!("reference.json")).expect("reference.json")
}

fn load() -> LocalEmbedder {
    let settings = LocalSettings::from_env().unwrap_or_else(|error| panic!("{error}"));
    LocalEmbedder::load(&settings).unwrap_or_else(|error| panic!("{error}"))
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn token_ids_match_the_python_tokenizer() {
    let reference = reference();
    assert_eq!(reference.model, MODEL_NAME);
    assert_eq!(reference.max_length, MAX_LENGTH);
    assert_eq!(reference.sentences.len(), 20);
    let texts: Vec<String> = reference.sentences.iter().map(|s| s.text.clone()).collect();
    let ids = load().token_ids(&texts).unwrap();
    for (sentence, ids) in reference.sentences.iter().zip(&ids) {
        assert_eq!(ids, &sentence.ids, "token ids of {:?}", sentence.text);
    }
    // The long sentence is cut at 256 tokens, not the shipped file's 128.
    assert_eq!(ids.iter().map(Vec::len).max(), Some(MAX_LENGTH));
}

#[test]
fn vectors_match_the_reference_in_one_padded_batch_and_one_by_one() {
    let reference = reference();
    let embedder = load();
    let texts: Vec<String> = reference.sentences.iter().map(|s| s.text.clone()).collect();
    let batched = embedder.embed_blocking(&texts).unwrap();
    assert_eq!(batched.len(), texts.len());
    let mut worst = 1.0f64;
    for (sentence, vector) in reference.sentences.iter().zip(&batched) {
        assert_eq!(vector.len(), DIMENSION);
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!(
            (norm - 1.0).abs() < 1e-4,
            "norm {norm} for {:?}",
            sentence.text
        );
        let similarity = cosine(vector, &sentence.vector);
        assert!(
            similarity >= 0.999,
            "cosine {similarity} for {:?}",
            sentence.text
        );
        worst = worst.min(similarity);
    }
    eprintln!("lowest cosine to the reference: {worst:.6}");
    // Padding a text to a batch's longest one does not change its vector.
    for (index, text) in texts.iter().enumerate().step_by(5) {
        let alone = embedder.embed_blocking(std::slice::from_ref(text)).unwrap();
        assert!(cosine(&alone[0], &batched[index]) > 0.99999, "{text:?}");
    }
}

#[test]
fn related_sentences_are_closer_than_unrelated_ones() {
    let texts = [
        "Forecast next week's demand for milk.",
        "Predict how much milk will sell in the coming week.",
        "The API returns problem+json on a validation error.",
    ]
    .map(String::from);
    let vectors = load().embed_blocking(&texts).unwrap();
    assert!(cosine(&vectors[0], &vectors[1]) > cosine(&vectors[0], &vectors[2]) + 0.3);
}

#[tokio::test]
async fn the_registered_provider_embeds_through_the_async_trait() {
    let registration = embedder("local").expect("`local` is registered");
    let provider = (registration.build)(&ProviderSettings {
        model: MODEL_NAME.into(),
        dimension: Some(DIMENSION),
        ..Default::default()
    })
    .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(provider.name(), "local");
    assert_eq!(provider.dimension(), DIMENSION);
    assert!(provider.embed(&[]).await.unwrap().is_empty());
    let reference = reference();
    let first = &reference.sentences[0];
    let vectors = provider
        .embed(std::slice::from_ref(&first.text))
        .await
        .unwrap();
    assert!(cosine(&vectors[0], &first.vector) >= 0.999);

    let wrong = (registration.build)(&ProviderSettings {
        model: MODEL_NAME.into(),
        dimension: Some(1536),
        ..Default::default()
    })
    .unwrap_err();
    assert!(wrong.to_string().contains("384"), "{wrong}");
}

#[test]
fn a_missing_model_or_runtime_fails_at_load_with_the_fix() {
    let settings = LocalSettings::from_env().unwrap_or_else(|error| panic!("{error}"));
    let no_model = LocalSettings {
        model_dir: std::env::temp_dir().join("no-such-minilm"),
        ..settings.clone()
    };
    let message = LocalEmbedder::load(&no_model).unwrap_err().to_string();
    assert!(message.contains("export_onnx.py"), "{message}");
    let no_runtime = LocalSettings {
        runtime: std::env::temp_dir().join("no-such-libonnxruntime.so"),
        ..settings
    };
    let message = LocalEmbedder::load(&no_runtime).unwrap_err().to_string();
    assert!(message.contains("ORT_DYLIB_PATH"), "{message}");
}
