//! An in-memory S3 backend for the capacity benchmark: the objects live in
//! a map, so a request costs what the S3 protocol costs (signing, HTTP,
//! XML, the body) and no server-side disk work. It serves the calls the
//! artifact store makes: PUT, GET, HEAD, server-side copy and listing.

use std::{collections::BTreeMap, sync::Mutex};

use bytes::Bytes;
use futures::TryStreamExt;
use s3s::{
    dto::{
        CommonPrefix, CopyObjectInput, CopyObjectOutput, CopySource, GetObjectInput,
        GetObjectOutput, HeadObjectInput, HeadObjectOutput, ListObjectsV2Input,
        ListObjectsV2Output, Object, PutObjectInput, PutObjectOutput, StreamingBlob,
    },
    s3_error, S3Request, S3Response, S3Result, S3,
};

/// Objects by (bucket, key).
#[derive(Debug, Default)]
pub(crate) struct MemoryS3 {
    objects: Mutex<BTreeMap<(String, String), Bytes>>,
}

impl MemoryS3 {
    fn object(&self, bucket: &str, key: &str) -> S3Result<Bytes> {
        let objects = self.objects.lock().map_err(|_| s3_error!(InternalError))?;
        objects
            .get(&(bucket.to_owned(), key.to_owned()))
            .cloned()
            .ok_or_else(|| s3_error!(NoSuchKey))
    }

    fn store(&self, bucket: String, key: String, body: Bytes) -> S3Result<()> {
        let mut objects = self.objects.lock().map_err(|_| s3_error!(InternalError))?;
        objects.insert((bucket, key), body);
        Ok(())
    }
}

/// A quoted ETag of `bytes` (its length: the client only passes it back).
fn e_tag(bytes: &Bytes) -> s3s::dto::ETag {
    s3s::dto::ETag::Strong(format!("{:x}", bytes.len()))
}

#[async_trait::async_trait]
impl S3 for MemoryS3 {
    async fn put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let input = req.input;
        let body = input.body.ok_or_else(|| s3_error!(IncompleteBody))?;
        let chunks: Vec<Bytes> = body
            .try_collect()
            .await
            .map_err(|_| s3_error!(IncompleteBody))?;
        let bytes = Bytes::from(chunks.concat());
        let output = PutObjectOutput {
            e_tag: Some(e_tag(&bytes)),
            ..Default::default()
        };
        self.store(input.bucket, input.key, bytes)?;
        Ok(S3Response::new(output))
    }

    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let bytes = self.object(&req.input.bucket, &req.input.key)?;
        let output = GetObjectOutput {
            content_length: Some(bytes.len() as i64),
            e_tag: Some(e_tag(&bytes)),
            last_modified: Some(std::time::SystemTime::UNIX_EPOCH.into()),
            body: Some(StreamingBlob::from(s3s::Body::from(bytes))),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let bytes = self.object(&req.input.bucket, &req.input.key)?;
        Ok(S3Response::new(HeadObjectOutput {
            content_length: Some(bytes.len() as i64),
            e_tag: Some(e_tag(&bytes)),
            last_modified: Some(std::time::SystemTime::UNIX_EPOCH.into()),
            ..Default::default()
        }))
    }

    async fn copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let input = req.input;
        let CopySource::Bucket { bucket, key, .. } = &input.copy_source else {
            return Err(s3_error!(NotImplemented));
        };
        let bytes = self.object(bucket, key)?;
        self.store(input.bucket, input.key, bytes)?;
        Ok(S3Response::new(CopyObjectOutput::default()))
    }

    async fn list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        let prefix = input.prefix.clone().unwrap_or_default();
        let objects = self.objects.lock().map_err(|_| s3_error!(InternalError))?;
        let (mut contents, mut prefixes) = (Vec::new(), std::collections::BTreeSet::new());
        for ((bucket, key), bytes) in objects.iter() {
            if *bucket != input.bucket || !key.starts_with(&prefix) {
                continue;
            }
            let rest = &key[prefix.len()..];
            match input
                .delimiter
                .as_deref()
                .and_then(|d| rest.find(d).map(|at| (d, at)))
            {
                Some((delimiter, at)) => {
                    prefixes.insert(format!("{prefix}{}{delimiter}", &rest[..at]));
                }
                None => contents.push(Object {
                    key: Some(key.clone()),
                    size: Some(bytes.len() as i64),
                    e_tag: Some(e_tag(bytes)),
                    last_modified: Some(std::time::SystemTime::UNIX_EPOCH.into()),
                    ..Default::default()
                }),
            }
        }
        let key_count = i32::try_from(contents.len() + prefixes.len()).unwrap_or(i32::MAX);
        Ok(S3Response::new(ListObjectsV2Output {
            key_count: Some(key_count),
            is_truncated: Some(false),
            contents: (!contents.is_empty()).then_some(contents),
            common_prefixes: (!prefixes.is_empty()).then(|| {
                prefixes
                    .into_iter()
                    .map(|prefix| CommonPrefix {
                        prefix: Some(prefix),
                    })
                    .collect()
            }),
            delimiter: input.delimiter,
            name: Some(input.bucket),
            prefix: input.prefix,
            ..Default::default()
        }))
    }
}
