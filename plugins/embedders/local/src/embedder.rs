//! The embedder itself: the Hugging Face tokenizer, the ONNX graph run by
//! ONNX Runtime, then mean pooling and L2 normalisation.

use std::{
    fmt,
    sync::{Arc, Mutex, PoisonError},
};

use async_trait::async_trait;
use forecastlab_core::{ai::EmbeddingProvider, CoreError};
use ort::{
    environment::Environment,
    session::{builder::GraphOptimizationLevel, Session},
    value::Tensor,
};
use tokenizers::{Encoding, Tokenizer, TruncationParams};

use crate::{
    pooling::mean_pool_normalise,
    settings::{LocalSettings, BATCH_SIZE, DIMENSION, MAX_LENGTH, RUNTIME_ENV},
};

/// all-MiniLM-L6-v2 on the CPU. Cheap to clone; the forward passes of all
/// clones share one ONNX Runtime session (whose threads use every core set
/// in the settings), run one batch at a time.
#[derive(Clone)]
pub struct LocalEmbedder {
    inner: Arc<Inner>,
}

struct Inner {
    tokenizer: Tokenizer,
    session: Mutex<Session>,
    threads: usize,
}

impl fmt::Debug for LocalEmbedder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalEmbedder")
            .field("model", &crate::settings::MODEL_NAME)
            .field("threads", &self.inner.threads)
            .finish()
    }
}

impl LocalEmbedder {
    /// Loads ONNX Runtime, the graph and the tokenizer. Fails with a message
    /// that names the missing piece and how to install it.
    pub fn load(settings: &LocalSettings) -> Result<Self, CoreError> {
        settings.check_files()?;
        let environment = environment(settings)?;
        let session_error = |error: ort::Error<_>| {
            CoreError::Artifact(format!(
                "cannot open {}: {error}",
                settings.model_file().display()
            ))
        };
        let session = Session::builder(&environment)
            .map_err(|error| CoreError::Artifact(error.to_string()))?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(session_error)?
            .with_intra_threads(settings.threads)
            .map_err(session_error)?
            .with_inter_threads(1)
            .map_err(session_error)?
            .commit_from_file(settings.model_file())
            .map_err(|error| {
                CoreError::Artifact(format!(
                    "cannot open {}: {error}",
                    settings.model_file().display()
                ))
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                tokenizer: tokenizer(settings)?,
                session: Mutex::new(session),
                threads: settings.threads,
            }),
        })
    }

    /// Token ids of each text as the model sees them: `[CLS] … [SEP]`,
    /// truncated to 256 tokens, no padding.
    pub fn token_ids(&self, texts: &[String]) -> Result<Vec<Vec<u32>>, CoreError> {
        Ok(self
            .inner
            .encode(texts)?
            .iter()
            .map(|encoding| encoding.get_ids().to_vec())
            .collect())
    }

    /// Embeds `texts` on the calling thread (blocking; the async
    /// [`EmbeddingProvider::embed`] runs this on the blocking pool).
    pub fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, CoreError> {
        self.inner.embed(texts)
    }
}

/// The process-wide ONNX Runtime environment (ONNX Runtime allows one),
/// loading the library from [`LocalSettings::runtime`] on first use.
fn environment(settings: &LocalSettings) -> Result<Environment, CoreError> {
    static ENVIRONMENT: Mutex<Option<Environment>> = Mutex::new(None);
    let mut slot = ENVIRONMENT.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(environment) = slot.as_ref() {
        return Ok(environment.clone());
    }
    let environment = ort::init_from(&settings.runtime)
        .map_err(|error| {
            CoreError::config(format!(
                "cannot load ONNX Runtime from {RUNTIME_ENV}={}: {error}",
                settings.runtime.display()
            ))
        })?
        .with_name("forecastlab-embed-local")
        .build()
        .map_err(|error| CoreError::config(format!("cannot start ONNX Runtime: {error}")))?;
    *slot = Some(environment.clone());
    Ok(environment)
}

/// The shipped tokenizer with truncation at [`MAX_LENGTH`] and without its
/// fixed padding to 128 (batches are padded to their longest text).
fn tokenizer(settings: &LocalSettings) -> Result<Tokenizer, CoreError> {
    let path = settings.tokenizer_file();
    let invalid =
        |error: tokenizers::Error| CoreError::Artifact(format!("{}: {error}", path.display()));
    let mut tokenizer = Tokenizer::from_file(&path).map_err(invalid)?;
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: MAX_LENGTH,
            ..TruncationParams::default()
        }))
        .map_err(invalid)?;
    Ok(tokenizer)
}

impl Inner {
    fn encode(&self, texts: &[String]) -> Result<Vec<Encoding>, CoreError> {
        self.tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|error| CoreError::input(format!("cannot tokenize: {error}")))
    }

    /// Tokenises everything, then runs batches of texts of similar length
    /// (sorted by token count, so little padding) and puts the vectors back
    /// in input order.
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, CoreError> {
        let encodings = self.encode(texts)?;
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&index| std::cmp::Reverse(encodings[index].len()));
        let mut vectors = vec![Vec::new(); encodings.len()];
        for batch in order.chunks(BATCH_SIZE) {
            let batch_encodings: Vec<&Encoding> =
                batch.iter().map(|&index| &encodings[index]).collect();
            for (&index, vector) in batch.iter().zip(self.forward(&batch_encodings)?) {
                vectors[index] = vector;
            }
        }
        Ok(vectors)
    }

    /// One forward pass over a batch padded to its longest text.
    fn forward(&self, batch: &[&Encoding]) -> Result<Vec<Vec<f32>>, CoreError> {
        let seq = batch
            .iter()
            .map(|encoding| encoding.len())
            .max()
            .unwrap_or(0);
        let size = batch.len() * seq;
        let (mut ids, mut mask, mut types) = (vec![0i64; size], vec![0i64; size], vec![0i64; size]);
        for (row, encoding) in batch.iter().enumerate() {
            let start = row * seq;
            let fill = |target: &mut [i64], source: &[u32]| {
                for (slot, &value) in target[start..].iter_mut().zip(source) {
                    *slot = i64::from(value);
                }
            };
            fill(&mut ids, encoding.get_ids());
            fill(&mut mask, encoding.get_attention_mask());
            fill(&mut types, encoding.get_type_ids());
        }
        let shape = [batch.len(), seq];
        let tensor = |data: Vec<i64>| {
            Tensor::from_array((shape, data)).map_err(|error| CoreError::input(error.to_string()))
        };
        let inputs = ort::inputs![
            "input_ids" => tensor(ids)?,
            "attention_mask" => tensor(mask.clone())?,
            "token_type_ids" => tensor(types)?,
        ];
        let mut session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        let outputs = session.run(inputs).map_err(|error| {
            CoreError::Artifact(format!("the local model failed on a batch: {error}"))
        })?;
        let (_, hidden) = outputs["last_hidden_state"]
            .try_extract_tensor::<f32>()
            .map_err(|error| CoreError::Artifact(format!("unexpected model output: {error}")))?;
        mean_pool_normalise(hidden, &mask, seq, DIMENSION)
    }
}

#[async_trait]
impl EmbeddingProvider for LocalEmbedder {
    fn name(&self) -> &'static str {
        "local"
    }

    fn dimension(&self) -> usize {
        DIMENSION
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, CoreError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let embedder = self.clone();
        let texts = texts.to_vec();
        tokio::task::spawn_blocking(move || embedder.embed_blocking(&texts))
            .await
            .map_err(|error| CoreError::Artifact(format!("the local embedder stopped: {error}")))?
    }
}
